/* Values in their units, as the page prints them: durations as ns/µs/ms/s,
 * bytes as KiB/MiB, counts as k/M/G, shares as percentages, and a frame of
 * the threads and tasks JSON as "function file:line". Pure: no DOM, so
 * tests/ui/model.test.mjs runs it in Node. */

/* Three significant digits, integers as they are. */
function sig3(x) {
  const a = Math.abs(x);
  if (Number.isInteger(x)) return String(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmtDuration(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return sig3(ns) + ' ns';
  if (a < 1e6) return sig3(ns / 1e3) + ' \u00b5s';
  if (a < 1e9) return sig3(ns / 1e6) + ' ms';
  if (a < 60e9) return sig3(ns / 1e9) + ' s';
  return sig3(ns / 60e9) + ' min';
}

export function fmtBytes(b) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = b;
  while (i < units.length - 1 && Math.abs(v) >= 1024) { v /= 1024; i++; }
  return (i === 0 ? String(Math.round(v)) : sig3(v)) + ' ' + units[i];
}

export function fmtCount(n) {
  const a = Math.abs(n);
  if (a < 1e4) return String(Math.round(n * 100) / 100);
  if (a < 1e6) return sig3(n / 1e3) + 'k';
  if (a < 1e9) return sig3(n / 1e6) + 'M';
  return sig3(n / 1e9) + 'G';
}

/* A value in a profile unit ("nanoseconds", "bytes", "count", ...). */
export function fmtValue(v, unit) {
  switch (unit) {
    case 'nanoseconds': return fmtDuration(v);
    case 'microseconds': return fmtDuration(v * 1e3);
    case 'milliseconds': return fmtDuration(v * 1e6);
    case 'seconds': return fmtDuration(v * 1e9);
    case 'bytes': return fmtBytes(v);
    default: return fmtCount(v);
  }
}

export function fmtSigned(v, unit) { return (v > 0 ? '+' : v < 0 ? '\u2212' : '\u00b1') + fmtValue(Math.abs(v), unit); }

export function pct(part, whole) { return whole ? (100 * part / whole).toFixed(2) + '%' : '\u2013'; }

/* A frame of the threads dump or a task's birth stack: a string, or
 * {function, file, line, address}. */
export function frameText(f) {
  if (typeof f === 'string') return f;
  const fn = f.function || f.name || f.address || '?';
  const file = f.file ? ' ' + f.file.split('/').pop() + (f.line ? ':' + f.line : '') : '';
  return fn + file;
}
