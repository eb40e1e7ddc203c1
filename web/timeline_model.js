/* The Timeline's model: a Chrome trace-event JSON (as /debug/pprof/trace
 * writes it, or any file with a traceEvents array) into lanes of spans.
 * Pure: no DOM, tested in Node.
 *
 * parseTrace(json) -> { lanes, counters, end, notes, spanCount }
 *   lanes: [{ key, pid, tid, name, sort, depth, spans: [{ ts, dur, name, cat, args, depth, stack }],
 *             samples: [{ ts, dur: 0, name, cat: 'cpu', args, stack }] }]
 *          X events and b/e or B/E pairs become spans (times in microseconds);
 *          depth is the nesting level within the lane; stack is the frame
 *          names (leaf first) of "sf" in stackFrames, or []. CPU samples
 *          (instants of category cpu) are the lane's samples, drawn on a
 *          row of their own below its spans (row index depth).
 *   counters: [{ name, points: [[ts, value]] }]
 *   end: the latest time seen.
 * A process tree's trace (several pids, docs/process-tree.md): lanes go
 * process by process (process_sort_index, the root first), each lane's and
 * counter's name says its pid, and each process keeps its own counters. */

function frameChain(frames, id) {
  const out = [];
  for (let guard = 0; id != null && frames[id] && guard < 512; guard++) {
    const f = frames[id];
    out.push(f.category ? f.name + ' ' + f.category.replace(/^.*\//, '') : f.name);
    id = f.parent;
  }
  return out;
}

export function parseTrace(json) {
  const events = Array.isArray(json) ? json : json && json.traceEvents;
  if (!Array.isArray(events)) throw new Error('not a trace: no traceEvents array');
  const frames = (json && json.stackFrames) || {};
  const lanes = new Map();
  const lane = (pid, tid) => {
    const key = pid + ':' + tid;
    let l = lanes.get(key);
    if (!l) { l = { key, pid, tid, name: 'thread ' + tid, sort: tid, spans: [], samples: [] }; lanes.set(key, l); }
    return l;
  };
  const counters = new Map();
  const procSort = new Map();
  const open = new Map(); /* b/e by cat+id, B/E by lane */
  let end = 0;
  const add = (e, ts, dur) => {
    const s = { ts, dur: Math.max(0, dur), name: String(e.name || ''), cat: e.cat || '', args: e.args || {},
      depth: 0, stack: e.sf != null ? frameChain(frames, String(e.sf)) : [] };
    lane(e.pid, e.tid).spans.push(s);
    end = Math.max(end, ts + s.dur);
  };
  for (const e of events) {
    if (!e || typeof e !== 'object') continue;
    const ts = Number(e.ts) || 0;
    switch (e.ph) {
      case 'M':
        if (e.name === 'thread_name') lane(e.pid, e.tid).name = String(e.args && e.args.name);
        if (e.name === 'thread_sort_index') lane(e.pid, e.tid).sort = Number(e.args && e.args.sort_index);
        if (e.name === 'process_sort_index') procSort.set(e.pid, Number(e.args && e.args.sort_index));
        break;
      case 'X': add(e, ts, Number(e.dur) || 0); break;
      case 'B': { const k = 'B' + e.pid + ':' + e.tid; (open.get(k) || open.set(k, []).get(k)).push(e); break; }
      case 'E': { const st = open.get('B' + e.pid + ':' + e.tid); const b = st && st.pop(); if (b) add(b, Number(b.ts), ts - Number(b.ts)); break; }
      case 'b': open.set('b' + e.cat + ':' + e.id, e); break;
      case 'e': { const k = 'b' + e.cat + ':' + e.id; const b = open.get(k); if (b) { open.delete(k); add(b, Number(b.ts), ts - Number(b.ts)); } break; }
      case 'i':
        if (e.cat === 'cpu') {
          lane(e.pid, e.tid).samples.push({ ts, dur: 0, name: String(e.name || ''), cat: 'cpu', args: e.args || {},
            stack: e.sf != null ? frameChain(frames, String(e.sf)) : [] });
          end = Math.max(end, ts);
        }
        break;
      case 'C':
        for (const [k, v] of Object.entries(e.args || {})) {
          const name = Object.keys(e.args).length > 1 ? e.name + ' ' + k : e.name;
          const key = e.pid + '\0' + name;
          if (!counters.has(key)) counters.set(key, { name, pid: e.pid, points: [] });
          counters.get(key).points.push([ts, Number(v)]);
        }
        end = Math.max(end, ts);
        break;
      default: break;
    }
  }
  let spanCount = 0;
  const out = [...lanes.values()].filter((l) => l.spans.length || l.samples.length);
  for (const l of out) {
    l.spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const ends = [];
    for (const s of l.spans) {
      while (ends.length && ends[ends.length - 1] <= s.ts + 1e-6) ends.pop(); /* ns rounding of us */
      s.depth = ends.length;
      ends.push(s.ts + s.dur);
    }
    l.depth = l.spans.length ? Math.max(1, ...l.spans.map((s) => s.depth + 1)) : 0;
    l.samples.sort((a, b) => a.ts - b.ts);
    spanCount += l.spans.length;
  }
  const pids = new Set([...out.map((l) => l.pid), ...[...counters.values()].map((c) => c.pid)]);
  const rank = (pid) => (procSort.has(pid) ? procSort.get(pid) : Infinity);
  out.sort((a, b) => rank(a.pid) - rank(b.pid) || a.pid - b.pid || a.sort - b.sort || a.tid - b.tid);
  const cs = [...counters.values()];
  if (pids.size > 1) {
    for (const l of out) l.name = 'pid ' + l.pid + ': ' + l.name;
    for (const c of cs) c.name = 'pid ' + c.pid + ': ' + c.name;
    cs.sort((a, b) => rank(a.pid) - rank(b.pid) || a.pid - b.pid);
  }
  return { lanes: out, counters: cs.map(({ name, points }) => ({ name, points })), end, notes: (json && json.otherData) || {}, spanCount };
}

/* The lane's CPU sample nearest to time t (us), within tol us, or null. */
export function sampleAt(l, t, tol) {
  let best = null, bd = tol;
  for (const s of l.samples) { const d = Math.abs(s.ts - t); if (d <= bd) { best = s; bd = d; } }
  return best;
}

/* The span of a lane under time t (us) at depth d, or null. */
export function spanAt(l, t, d) {
  let best = null;
  for (const s of l.spans) if (s.depth === d && s.ts <= t && t <= s.ts + s.dur) best = s;
  return best;
}
