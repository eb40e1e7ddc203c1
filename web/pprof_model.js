/* profile.proto (gzipped, as every pprof endpoint serves it) read in the
 * browser, into the JSON profile model (docs/profile-json.md) that
 * parseProfile takes. The page needs it for one thing: the whole tree of a
 * pre-forking server, which the root serves merged only as pprof (each
 * sample labelled pid and process, format/pprof_merge.h); the JSON of one
 * process stays the server's. As the JSON model does, a run of a sample's
 * unsymbolized frames in one mapping folds into one frame named after the
 * mapping's file ("[nginx]").
 * Pure (no DOM): tests/ui/model.test.mjs runs it in Node. */

/* Bytes of a gzip stream (or plain bytes, returned as they are). */
export async function gunzip(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 2 || u8[0] !== 0x1f || u8[1] !== 0x8b) return u8;
  const stream = new Blob([u8]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/* A protobuf reader over one message's bytes: fields as [number, wire type, value]. */
function* fields(buf, start = 0, end = buf.length) {
  let i = start;
  const varint = () => {
    let v = 0, mul = 1, b;
    do {
      if (i >= end) throw new Error('pprof: truncated varint');
      b = buf[i++];
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return v;
  };
  while (i < end) {
    const key = varint();
    const num = Math.floor(key / 8), wt = key % 8;
    if (wt === 0) yield [num, 0, varint()];
    else if (wt === 2) {
      const len = varint();
      if (i + len > end) throw new Error('pprof: truncated field');
      yield [num, 2, [i, i + len]];
      i += len;
    } else if (wt === 1) { yield [num, 1, null]; i += 8; }
    else if (wt === 5) { yield [num, 5, null]; i += 4; }
    else throw new Error('pprof: bad wire type ' + wt);
  }
}

/* int64 from a varint read as a JavaScript number (two's complement above 2^63). */
const int64 = (v) => (v >= 2 ** 63 ? v - 2 ** 64 : v);

/* A repeated integer field, packed or not, appended to out. */
function ints(buf, wt, v, out) {
  if (wt === 0) { out.push(int64(v)); return; }
  let i = v[0];
  while (i < v[1]) {
    let n = 0, mul = 1, b;
    do { b = buf[i++]; n += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
    out.push(int64(n));
  }
}

const text = new TextDecoder();
const hex = (n) => '0x' + Math.max(0, n).toString(16);

/* Decoded profile.proto (plain bytes) -> the JSON profile model. */
export function decodePprof(buf, name = 'profile') {
  const strings = [];
  const raw = { types: [], samples: [], mappings: [], locations: [], functions: [], comments: [] };
  let timeNanos = 0, durationNanos = 0, period = 0, periodType = null, defaultType = -1;
  const valueType = ([a, b]) => {
    const t = { type: 0, unit: 0 };
    for (const [n, , x] of fields(buf, a, b)) { if (n === 1) t.type = x; if (n === 2) t.unit = x; }
    return t;
  };
  for (const [num, wt, v] of fields(buf)) {
    switch (num) {
    case 1: raw.types.push(valueType(v)); break;
    case 2: {
      const s = { locs: [], values: [], labels: [] };
      for (const [n, w, x] of fields(buf, v[0], v[1])) {
        if (n === 1) ints(buf, w, x, s.locs);
        else if (n === 2) ints(buf, w, x, s.values);
        else if (n === 3) {
          const l = { key: 0, str: 0, num: 0 };
          for (const [ln, , lx] of fields(buf, x[0], x[1])) {
            if (ln === 1) l.key = lx; else if (ln === 2) l.str = lx; else if (ln === 3) l.num = int64(lx);
          }
          s.labels.push(l);
        }
      }
      raw.samples.push(s);
      break;
    }
    case 3: {
      const m = { id: 0, start: 0, limit: 0, offset: 0, file: 0, buildId: 0 };
      for (const [n, , x] of fields(buf, v[0], v[1])) {
        if (n === 1) m.id = x; else if (n === 2) m.start = x; else if (n === 3) m.limit = x;
        else if (n === 4) m.offset = x; else if (n === 5) m.file = x; else if (n === 6) m.buildId = x;
      }
      raw.mappings.push(m);
      break;
    }
    case 4: {
      const l = { id: 0, mapping: 0, address: 0, lines: [] };
      for (const [n, , x] of fields(buf, v[0], v[1])) {
        if (n === 1) l.id = x; else if (n === 2) l.mapping = x; else if (n === 3) l.address = x;
        else if (n === 4) {
          const line = { fn: 0, line: 0 };
          for (const [ln, , lx] of fields(buf, x[0], x[1])) { if (ln === 1) line.fn = lx; if (ln === 2) line.line = int64(lx); }
          l.lines.push(line);
        }
      }
      raw.locations.push(l);
      break;
    }
    case 5: {
      const f = { id: 0, name: 0, file: 0 };
      for (const [n, , x] of fields(buf, v[0], v[1])) { if (n === 1) f.id = x; if (n === 2) f.name = x; if (n === 4) f.file = x; }
      raw.functions.push(f);
      break;
    }
    case 6: strings.push(text.decode(buf.subarray(v[0], v[1]))); break;
    case 9: timeNanos = int64(v); break;
    case 10: durationNanos = int64(v); break;
    case 11: periodType = valueType(v); break;
    case 12: period = int64(v); break;
    case 13: ints(buf, wt, v, raw.comments); break;
    case 14: defaultType = v; break;
    default: break;
    }
  }
  const str = (i) => strings[i] || '';
  /* ids -> indices */
  const mapIndex = new Map(raw.mappings.map((m, i) => [m.id, i]));
  const fnIndex = new Map(raw.functions.map((f, i) => [f.id, i]));
  const functions = raw.functions.map((f) => ({ name: str(f.name), file: str(f.file) }));
  const mappings = raw.mappings.map((m) => ({ start: hex(m.start), limit: hex(m.limit), offset: hex(m.offset), file: str(m.file), build_id: str(m.buildId) }));
  /* Folded frames: one location and one function "[file]" per mapping. */
  const folded = new Map();
  const locations = raw.locations.map((l) => ({
    address: hex(l.address), mapping: mapIndex.has(l.mapping) ? mapIndex.get(l.mapping) : -1,
    lines: l.lines.map((x) => ({ function: fnIndex.has(x.fn) ? fnIndex.get(x.fn) : -1, line: x.line })),
  }));
  const foldedOf = (m) => {
    if (!folded.has(m)) {
      const file = m >= 0 ? mappings[m].file.split('/').pop() : '';
      functions.push({ name: '[' + (file || 'unknown') + ']', file: '' });
      locations.push({ address: '0x0', mapping: m, folded: true, lines: [{ function: functions.length - 1, line: 0 }] });
      folded.set(m, locations.length - 1);
    }
    return folded.get(m);
  };
  const locIndex = new Map(raw.locations.map((l, i) => [l.id, i]));
  const samples = raw.samples.map((s) => {
    const locs = [];
    let prev = null;
    for (const id of s.locs) {
      const i = locIndex.get(id);
      if (i === undefined) continue;
      const l = locations[i];
      if (l.lines.length) { locs.push(i); prev = null; continue; }
      if (prev === l.mapping) continue; /* the run folds */
      locs.push(foldedOf(l.mapping));
      prev = l.mapping;
    }
    const labels = {};
    for (const l of s.labels) {
      const k = str(l.key);
      if (!(k in labels)) labels[k] = l.str ? str(l.str) : l.num;
    }
    return { locations: locs, values: s.values, labels };
  });
  const types = raw.types.map((t) => ({ type: str(t.type), unit: str(t.unit) }));
  let def = types.length - 1;
  if (defaultType > 0) { const i = types.findIndex((t) => t.type === str(defaultType)); if (i >= 0) def = i; }
  const comments = raw.comments.map(str);
  return {
    name, sample_types: types, default_sample_type: def,
    period_type: periodType ? { type: str(periodType.type), unit: str(periodType.unit) } : null,
    period, time_nanos: timeNanos, duration_nanos: durationNanos, comments,
    warnings: comments.filter((c) => c.startsWith('warning: ')).map((c) => c.slice(9)),
    functions, locations, mappings, samples,
  };
}

/* The process ids a decoded profile's samples carry (label pid), sorted. */
export function pidsOf(model) {
  const s = new Set();
  for (const x of model.samples) if (x.labels.pid !== undefined) s.add(Number(x.labels.pid));
  return [...s].sort((a, b) => a - b);
}
