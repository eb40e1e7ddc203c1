/* The leak sentinel's JSON (/debug/pprof/leaks?format=json, docs/leaks.md),
 * read in one place: suspects with their evidence, stack and series, the
 * process figures, and the retained snapshot times the heap diff can use.
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node on a fixture. */
import { frameText } from './format.js';

export function parseLeaks(json) {
  const j = json || {};
  const suspects = (Array.isArray(j.suspects) ? j.suspects : []).map((s) => {
    const stack = Array.isArray(s.stack) ? s.stack.map(frameText) : [];
    const c = s.confidence || {};
    return {
      rank: s.rank ?? 0, kind: s.kind ?? '?', name: s.name ?? null, unit: s.unit === 'bytes' ? 'bytes' : 'count',
      /* what to call it: the type or kind, else the first frame of its stack */
      label: s.name ?? (stack[0] || '?'),
      growthPerHour: s.growth_per_hour ?? 0, growingSeconds: s.growing_seconds ?? 0,
      atLeast: !!s.growing_since_window_start, current: s.current ?? 0, objects: s.current_objects ?? null,
      samples: c.growth_samples ?? 0, z: c.poisson_z ?? 0, mkz: c.mann_kendall_z ?? 0, tau: c.tau ?? 0,
      stack, series: Array.isArray(s.series) ? s.series.map(([t, v]) => ({ t, v })) : [],
    };
  });
  const process = Object.entries(j.process || {}).map(([name, p]) => ({
    name, unit: /bytes$/.test(name) ? 'bytes' : 'count', current: p.current ?? 0,
    growthPerHour: p.growth_per_hour ?? 0, series: Array.isArray(p.series) ? p.series.map(([t, v]) => ({ t, v })) : [],
  }));
  /* Every series of the report has one point per snapshot in the window. */
  const longest = [...suspects, ...process].reduce((a, s) => (s.series.length > a.length ? s.series : a), []);
  return {
    time: j.time ?? 0, window: j.window_seconds ?? 0, covered: j.covered_seconds ?? 0,
    interval: j.interval_seconds ?? 0, snapshots: j.snapshots ?? 0, heapRate: j.heap_rate ?? 0,
    note: j.note ?? null, suspects, process, times: longest.map((p) => p.t),
  };
}

/* The heap endpoint's URL for the delta since a retained snapshot (Unix s). */
export function baseUrl(t) {
  return '/debug/pprof/heap?base=' + Math.round(t) + '&format=json';
}

/* The heap at a retained snapshot T, from the heap now and the delta
 * now - T (?base=T): the current stacks plus the delta's, negated, so the
 * call tree sums to the heap as it was at T. Both are parsed profiles
 * (profile_model.js); names are re-interned into one table. */
export function profileAt(cur, delta) {
  const names = [], ids = new Map();
  const intern = (s) => {
    let id = ids.get(s);
    if (id === undefined) { id = names.length; names.push(s); ids.set(s, id); }
    return id;
  };
  const stacks = [];
  for (const [p, sign] of [[cur, 1], [delta, -1]])
    for (const s of p.stacks)
      stacks.push({ frames: s.frames.map((f) => intern(p.names[f])), values: s.values.map((v) => sign * (Number(v) || 0)), labels: {} });
  return { ...cur, names, stacks, comments: [] };
}
