/* /debug/vars, read in one place. parseVars knows memstats (numbers,
 * possibly nested) and pools (object or list, each with DBStats-like fields
 * and a wait histogram in one of a few shapes).
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node on the fixtures. */
import { fmtValue } from './format.js';

/* Charted first when present; other memstats follow up to MEM_MAX_CHARTS. */
const MEM_PREFERRED = ['rss_bytes', 'heap_inuse_bytes', 'heap_alloc_bytes', 'HeapInuse', 'HeapAlloc', 'Sys',
  'threads', 'open_fds', 'user_cpu_seconds', 'system_cpu_seconds', 'virtual_bytes', 'minor_faults'];
const MEM_SKIP = /start_time|max_fds|uptime/; /* constants or clocks: no chart */
const MEM_MAX_CHARTS = 12;

/* Numbers of nested objects as dotted keys ("a.b"); arrays are skipped. */
function flattenNumbers(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? prefix + '.' + k : k;
    if (typeof v === 'number') out.set(key, v);
    else if (v && typeof v === 'object' && !Array.isArray(v)) flattenNumbers(v, key, out);
  }
  return out;
}

/* The unit a /debug/vars key's name implies, for fmtValue. */
export function unitOfKey(k) {
  if (/bytes|^(Heap|Stack)(Alloc|Inuse|Sys|Idle|Released)$|^(Alloc|Sys|TotalAlloc)$/.test(k)) return 'bytes';
  if (/_ns$|nanos|Duration|Pause/i.test(k)) return 'nanoseconds';
  if (/_seconds$/.test(k)) return 'seconds';
  return 'count';
}

/* Histogram shapes accepted: {unit, bounds|le: [...], counts: [...]} (counts may
 * have one more entry, the +Inf bucket), {buckets: [{le, count}]}, or
 * {"<le>": count, ...}. Counts are per bucket unless cumulative: true. */
export function parseHistogram(h) {
  if (!h || typeof h !== 'object') return null;
  let pairs = null;
  if (Array.isArray(h.buckets)) pairs = h.buckets.map((b) => [b.le ?? b.upper ?? b.bound, b.count ?? b.n ?? 0]);
  else if (Array.isArray(h.counts) && (Array.isArray(h.bounds) || Array.isArray(h.le)))
    pairs = h.counts.map((c, i) => [(h.bounds || h.le)[i] ?? '+Inf', c]);
  else {
    const e = Object.entries(h).filter(([k, v]) => typeof v === 'number' && /^([0-9.e+-]+|\+Inf)$/i.test(k));
    if (e.length) pairs = e.map(([k, v]) => [k, v]);
  }
  if (!pairs || !pairs.length) return null;
  let counts = pairs.map((p) => Number(p[1]) || 0);
  if (h.cumulative === true) counts = counts.map((c, i) => c - (i ? Number(pairs[i - 1][1]) || 0 : 0));
  const unit = h.unit || 'seconds';
  const label = (b) => (typeof b === 'number' ? '\u2264' + fmtValue(b, unit) : String(b));
  return { labels: pairs.map((p) => label(p[0])), counts, unit };
}

export function parseVars(json) {
  const mem = flattenNumbers(json && json.memstats, '', new Map());
  const keys = MEM_PREFERRED.filter((k) => mem.has(k));
  for (const k of mem.keys()) if (keys.length < MEM_MAX_CHARTS && !keys.includes(k) && !MEM_SKIP.test(k)) keys.push(k);
  const pools = [];
  const raw = json && json.pools;
  const list = Array.isArray(raw) ? raw.map((p) => [p.name || '?', p]) : raw && typeof raw === 'object' ? Object.entries(raw) : [];
  for (const [name, p] of list) {
    const hk = Object.keys(p).find((k) => /hist/i.test(k));
    pools.push({ name, stats: flattenNumbers(Object.fromEntries(Object.entries(p).filter(([k]) => k !== hk)), '', new Map()),
      histogram: hk ? parseHistogram(p[hk]) : null });
  }
  return { mem, memKeys: keys, pools };
}
