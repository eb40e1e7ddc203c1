/* The tasks JSON, read in one place. parseTasks knows the shape:
 * {tasks: [...], counts|kinds: ...} or a bare list; ages and overdue amounts
 * in *_ns / *_nanos, *_seconds, or plain numbers (seconds).
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node on the fixtures. */
import { frameText } from './format.js';

/* A duration field under any of its spellings, in seconds; null if absent. */
function secondsOf(t, base) {
  for (const [suffix, mul] of [['_ns', 1e-9], ['_nanos', 1e-9], ['_us', 1e-6], ['_ms', 1e-3], ['_seconds', 1], ['_s', 1], ['', 1]]) {
    const v = t[base + suffix];
    if (typeof v === 'number') return v * mul;
  }
  return null;
}

export function parseTasks(json) {
  const list = Array.isArray(json) ? json : json && Array.isArray(json.tasks) ? json.tasks : [];
  const tasks = list.map((t) => {
    const overdue = secondsOf(t, 'overdue') ?? secondsOf(t, 'past_deadline') ?? null;
    const birth = Array.isArray(t.birth_stack) ? t.birth_stack.map(frameText) : [];
    return { id: t.id ?? '', kind: t.kind ?? '', name: t.name ?? '', state: t.state ?? '',
      age: secondsOf(t, 'age') ?? 0, overdue: overdue != null ? overdue : 0, thread: t.thread ?? t.tid ?? '',
      deadline: secondsOf(t, 'deadline') ?? null, birth };
  });
  /* States are quoted ("job in \"started\"") so a state never overwrites a
   * cumulative counter of the same name ("job started"). */
  /* Counts: kinds as a list [{kind, live, overdue, states: {...}}] or an
   * object {kind: {live, ...}} or {kind: n}; else counted from the tasks. */
  const counts = new Map();
  const src = json && !Array.isArray(json) ? json.kinds || json.counts || null : null;
  const addKind = (kind, v) => {
    if (typeof v === 'number') { counts.set(kind, v); return; }
    for (const [k, n] of Object.entries(v || {})) {
      if (typeof n === 'number' && n) counts.set(kind + ' ' + k.replace(/_/g, ' '), n);
      else if (k === 'states' && n && typeof n === 'object')
        for (const [st, c] of Object.entries(n)) if (c) counts.set(kind + ' in "' + st + '"', c);
    }
  };
  if (Array.isArray(src)) for (const k of src) addKind(k.kind || '?', Object.fromEntries(Object.entries(k).filter(([x]) => x !== 'kind')));
  else if (src && typeof src === 'object') for (const [k, v] of Object.entries(src)) addKind(k, v);
  else for (const t of tasks) { const k = ((t.kind || 'task') + ' ' + (t.state || '')).trim(); counts.set(k, (counts.get(k) || 0) + 1); }
  return {
    total: typeof json?.live === 'number' ? json.live : tasks.length, counts,
    oldest: tasks.slice().sort((a, b) => b.age - a.age).slice(0, 50),
    overdue: tasks.filter((t) => t.overdue > 0).sort((a, b) => b.overdue - a.overdue).slice(0, 50),
  };
}
