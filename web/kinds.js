/* The profile kinds the page captures: each plugs in with one line.
 * { id, label, path, timed, desc, alt, parse }: timed kinds take ?seconds=N,
 * alt is a fallback path on 404, parse converts a JSON shape other than the
 * profile model (the default is parseProfile). */
import { threadsAsProfile } from './threads_model.js';

export const KINDS = [
  { id: 'cpu', label: 'CPU', path: '/debug/pprof/profile', timed: true,
    desc: 'where CPU time went, all threads' },
  { id: 'heap', label: 'Heap', path: '/debug/pprof/heap',
    desc: 'sampled live and allocated memory: pick inuse/alloc \u00d7 space/objects as the sample' },
  { id: 'allocs', label: 'Allocs', path: '/debug/pprof/allocs', desc: 'all allocations since start' },
  { id: 'threads', label: 'Threads', path: '/debug/pprof/threads', alt: '/debug/pprof/goroutine',
    desc: 'stacks of every thread, grouped', parse: (j) => threadsAsProfile(j) },
  { id: 'block', label: 'Block', path: '/debug/pprof/block', desc: 'where the application waited on pools' },
  { id: 'offcpu', label: 'Off-CPU', path: '/debug/pprof/offcpu', timed: true,
    desc: 'where threads were blocked and for how long (no signal: blocked stacks walked from /proc)' },
  { id: 'wall', label: 'Wall', path: '/debug/pprof/wall', timed: true,
    desc: 'on- and off-CPU time per stack and thread; samples labelled state and idle' },
  { id: 'mutex', label: 'Mutex', path: '/debug/pprof/mutex',
    desc: 'holders of contended pthread locks, by the stack that unlocked (INTROSPECT_MUTEX_FRACTION)' },
];

export const DIFF_KINDS = KINDS.filter((k) => k.id === 'heap' || k.id === 'allocs');
