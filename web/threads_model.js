/* The threads JSON, read in one place. parseThreads knows both shapes: the
 * dump of /debug/pprof/threads?format=json ({threads: [{tid, name, state,
 * state_name, frames: [{function, file, line, address}], stack_reason}]},
 * leaf first), or the threads profile (one sample per distinct stack, value =
 * thread count, labels thread="worker*3,main" state="sleeping*2,running").
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node on the fixtures. */
import { frameText } from './format.js';
import { parseProfile, stackNames } from './profile_model.js';

/* "a*3,b" -> [["a", 3], ["b", 1]]; also "a=3" and "a:3". */
function countedList(text, dflt) {
  return String(text).split(/,\s*/).filter(Boolean).map((part) => {
    const m = /^(.*?)(?:[*=:](\d+))?$/.exec(part);
    return [m[1], m[2] ? Number(m[2]) : dflt];
  });
}

export function parseThreads(json) {
  const groups = [];
  const states = new Map();
  const addState = (s, n) => states.set(s, (states.get(s) || 0) + n);
  if (json && Array.isArray(json.threads)) {
    const byStack = new Map();
    for (const t of json.threads) {
      let frames = (t.frames || t.stack || []).map(frameText);
      if (!frames.length) frames = ['(no stack: ' + (t.stack_reason || t.stack_status || 'unknown') + ')'];
      const key = frames.join('\n');
      let g = byStack.get(key);
      if (!g) { g = { count: 0, frames, names: [], states: new Map() }; byStack.set(key, g); groups.push(g); }
      g.count++;
      g.names.push((t.name || '?') + (t.tid != null ? ' (' + t.tid + ')' : ''));
      const st = t.state_name || t.state || 'unknown';
      g.states.set(st, (g.states.get(st) || 0) + 1);
      addState(st, 1);
    }
  } else {
    const p = parseProfile(json);
    for (const s of p.stacks) {
      const count = Number(s.values[p.defaultIndex]) || Number(s.values[0]) || 1;
      const g = { count, frames: stackNames(p, s).reverse(), names: [], states: new Map() };
      for (const [k, v] of Object.entries(s.labels)) {
        if (/^(thread|threads|name|names)$/.test(k))
          for (const [n, c] of countedList(v, 1)) g.names.push(c > 1 ? n + ' \u00d7' + c : n);
        else if (/^states?$/.test(k)) {
          /* One state without a count covers every thread of the sample. */
          const list = countedList(v, 1);
          if (list.length === 1 && !/[*=:]\d+$/.test(String(v))) list[0][1] = count;
          for (const [st, c] of list) { g.states.set(st, (g.states.get(st) || 0) + c); addState(st, c); }
        } else g.names.push(k + '=' + v);
      }
      if (!g.states.size) addState('unknown', count);
      groups.push(g);
    }
  }
  groups.sort((a, b) => b.count - a.count);
  const total = groups.reduce((s, g) => s + g.count, 0);
  return { total, states, groups };
}

/* The threads dump as a profile for the flame graph: one sample per thread,
 * value 1 (the JSON profile model passes through unchanged). */
export function threadsAsProfile(json) {
  if (!json || !Array.isArray(json.threads)) return parseProfile(json);
  const names = [], ids = new Map();
  const intern = (n) => { let i = ids.get(n); if (i === undefined) { i = names.length; names.push(n); ids.set(n, i); } return i; };
  const stacks = json.threads.map((t) => {
    const frames = (t.frames || []).map((f) => intern(typeof f === 'string' ? f : f.function || f.address || '?')).reverse();
    if (!frames.length) frames.push(intern('(no stack: ' + (t.stack_reason || 'unknown') + ')'));
    frames.unshift(intern('state: ' + (t.state_name || t.state || 'unknown')));
    return { frames, values: [1], labels: { thread: t.name, tid: t.tid } };
  });
  return { name: 'threads', sampleTypes: [{ type: 'threads', unit: 'count' }], defaultIndex: 0, names, stacks,
    durationNanos: 0, timeNanos: json.time_nanos || 0, comments: [], period: 1, periodType: null };
}
