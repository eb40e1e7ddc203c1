/* A synthetic JSON profile (docs/profile-json.md) with N distinct stacks over
 * 600 functions, deterministic. About 30% of stacks pass through a wide
 * "synthetic_hot" frame under main. Shared by tests/ui and bench/ui. */
'use strict';

function syntheticProfile(nstacks) {
  let seed = 42; /* mulberry32: deterministic and well mixed */
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const nf = 600;
  const functions = [];
  for (let i = 0; i < nf; i++) functions.push({ name: i === 0 ? 'main' : i === 1 ? 'synthetic_hot' : 'fn_' + i + '_' + 'x'.repeat(i % 17), file: 'synth.c' });
  const locations = functions.map((f, i) => ({ address: '0x' + (0x400000 + i * 32).toString(16), mapping: 0, lines: [{ function: i, line: i }] }));
  const seen = new Set();
  const samples = [];
  while (samples.length < nstacks) {
    const depth = 4 + Math.floor(rnd() * 36);
    const stack = [0]; /* root first */
    for (let d = 1; d < depth; d++) stack.push(2 + Math.floor(Math.pow(rnd(), 2) * (nf - 2)));
    if (rnd() < 0.3) stack.splice(1, 0, 1); /* a wide synthetic_hot under main */
    const key = stack.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const v = 1 + Math.floor(rnd() * 20);
    samples.push({ locations: stack.slice().reverse(), values: [v, v * 10000000], labels: {} });
  }
  return {
    name: 'profile', sample_types: [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }],
    default_sample_type: 1, period_type: { type: 'cpu', unit: 'nanoseconds' }, period: 10000000,
    time_nanos: 0, duration_nanos: 30e9, comments: ['synthetic'], functions, locations,
    mappings: [{ start: '0x400000', limit: '0x500000', offset: '0x0', file: '/synth', build_id: '' }], samples,
  };
}

module.exports = { syntheticProfile };
