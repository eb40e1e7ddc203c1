/* The web UI's pure modules in Node, without a browser (node --test; ctest
 * test_ui_model). The fixtures are real outputs of the endpoints; the few
 * inline profiles are cases the fixtures do not hold (inlining, recursion).
 * What the page draws from these results is tested in Chromium (ui.test.js). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { BUSY_RETRIES, errorText, fetchData, fetchProfile, kindUrl, NotAvailable } from '../../web/api.js';
import { fmtBytes, fmtCount, fmtSigned, fmtValue, frameText, pct } from '../../web/format.js';
import { DIFF_KINDS, KINDS } from '../../web/kinds.js';
import { parseHistogram, parseVars, unitOfKey } from '../../web/metrics_model.js';
import {
  baselineIndex, buildTree, byLabel, exactNameSearch, hasIdle, labelKeys, markMatches, parseProfile, stackNames,
  topFunctions, withoutIdle,
} from '../../web/profile_model.js';
import { baseUrl, parseLeaks, profileAt } from '../../web/leaks_model.js';
import { decodePprof, gunzip, pidsOf } from '../../web/pprof_model.js';
import { processChoices, withPid } from '../../web/processes_model.js';
import { parseRequests, parseSlo } from '../../web/requests_model.js';
import { parseTasks } from '../../web/tasks_model.js';
import { parseThreads, threadsAsProfile } from '../../web/threads_model.js';

const fixture = (name) => JSON.parse(fs.readFileSync(new URL('fixtures/' + name, import.meta.url), 'utf8'));
const MiB = 1048576;

/* A profile JSON from stacks of function names (root first) and values. */
function profileOf(stacks, types = [{ type: 'samples', unit: 'count' }]) {
  const names = [...new Set(stacks.flatMap((s) => s.frames))];
  return {
    sample_types: types,
    functions: names.map((name) => ({ name })),
    locations: names.map((_, i) => ({ address: '0x' + i.toString(16), lines: [{ function: i }] })),
    samples: stacks.map((s) => ({ locations: s.frames.map((f) => names.indexOf(f)).reverse(), values: s.values })),
  };
}

const child = (n, name) => n.children.find((c) => c.name === name);
const path = (tree, ...names) => names.reduce(child, tree.root);

/* ---- format.js */

test('values print in their units', () => {
  assert.equal(fmtValue(1500, 'nanoseconds'), '1.50 \u00b5s');
  assert.equal(fmtValue(2.4e9, 'nanoseconds'), '2.40 s');
  assert.equal(fmtValue(90, 'seconds'), '1.50 min');
  assert.equal(fmtValue(250, 'milliseconds'), '250 ms');
  assert.equal(fmtValue(24 * MiB, 'bytes'), '24 MiB');
  assert.equal(fmtBytes(512), '512 B');
  assert.equal(fmtBytes(1536), '1.50 KiB');
  assert.equal(fmtCount(12345), '12.3k');
  assert.equal(fmtCount(7), '7');
  assert.equal(fmtValue(3, 'goroutine'), '3', 'an unknown unit is a count');
});

test('signed changes and shares', () => {
  assert.equal(fmtSigned(23 * MiB, 'bytes'), '+23 MiB');
  assert.equal(fmtSigned(-MiB, 'bytes'), '\u22121 MiB');
  assert.equal(fmtSigned(0, 'count'), '\u00b10');
  assert.equal(pct(1, 4), '25.00%');
  assert.equal(pct(1, 0), '\u2013', 'no share of nothing');
});

test('a frame of the threads and tasks JSON as text', () => {
  assert.equal(frameText({ function: 'route_leak', file: 'src/demo_tasks.c', line: 31 }), 'route_leak demo_tasks.c:31');
  assert.equal(frameText({ function: 'clone3', file: null, line: 0 }), 'clone3');
  assert.equal(frameText({ address: '0x401000' }), '0x401000');
  assert.equal(frameText('already text'), 'already text');
});

/* ---- profile_model.js */

test('parseProfile reads the heap profile: sample types, default, stacks root first', () => {
  const p = parseProfile(fixture('heap_base.json'));
  assert.equal(p.name, 'heap');
  assert.deepEqual(p.sampleTypes.map((t) => t.type), ['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
  assert.equal(p.defaultIndex, 3);
  assert.deepEqual(p.comments, ['fixture']);
  assert.equal(p.stacks.length, 4);
  assert.deepEqual(stackNames(p, p.stacks[0]), ['main', 'serve', 'handle_request', 'cache_put', 'malloc']);
  assert.deepEqual(p.stacks[0].values, [200, 2 * MiB, 100, MiB]);
  assert.equal(p.precision, null);
  const q = parseProfile({ ...fixture('heap_base.json'),
    precision: [{ samples: 9, relative_error: 1 / 3 }, { samples: 9, relative_error: 1 / 3 },
      { samples: 0, relative_error: null }, { samples: 0, relative_error: null }] });
  assert.equal(q.precision[0].samples, 9);
  assert.equal(q.precision[3].relative_error, null);
});

test('parseProfile puts inlined callers before callees and names unsymbolized frames by mapping', () => {
  const p = parseProfile({
    sample_types: [{ type: 'cpu', unit: 'nanoseconds' }],
    functions: [{ name: 'inner' }, { name: 'outer' }, { name: 'main' }],
    mappings: [{ file: '/usr/lib/libfoo.so' }],
    locations: [
      { address: '0x10', lines: [{ function: 0 }, { function: 1 }] }, /* inner inlined into outer */
      { address: '0x20', lines: [{ function: 2 }] },
      { address: '0x30', mapping: 0, lines: [] },
    ],
    samples: [{ locations: [2, 0, 1], values: [5] }],
  });
  assert.deepEqual(stackNames(p, p.stacks[0]), ['main', 'outer', 'inner', 'libfoo.so 0x30']);
  assert.equal(p.defaultIndex, 0, 'without default_sample_type, the last type');
});

test('parseProfile refuses JSON that is not a profile', () => {
  assert.throws(() => parseProfile({ threads: [] }), /not a JSON profile/);
  assert.throws(() => parseProfile(null), /not a JSON profile/);
});

test('buildTree merges stacks: totals, self on leaves, children by name', () => {
  const t = buildTree(parseProfile(fixture('heap_base.json')), 3);
  assert.equal(t.diff, false);
  assert.equal(t.root.total, 7.5 * MiB);
  assert.deepEqual(child(t.root, 'main').children.map((c) => c.name), ['old_path', 'serve', 'worker']);
  assert.equal(path(t, 'main', 'serve').total, 5 * MiB);
  assert.equal(path(t, 'main', 'serve', 'parse_json', 'malloc').self, 4 * MiB);
  assert.equal(path(t, 'main', 'serve').self, 0);
  assert.equal(t.maxDepth, 5);
  assert.equal(t.nodes, 14);
});

test('buildTree with a baseline: growth, shrinkage, and vanished frames keep their width', () => {
  const base = parseProfile(fixture('heap_base.json')), now = parseProfile(fixture('heap_now.json'));
  const t = buildTree(now, 3, base, baselineIndex(now, 3, base));
  assert.equal(t.diff, true);
  const grew = path(t, 'main', 'serve', 'handle_request', 'cache_put');
  assert.deepEqual([grew.total, grew.base], [24 * MiB, MiB]);
  const shrank = path(t, 'main', 'serve', 'parse_json');
  assert.deepEqual([shrank.total, shrank.base], [MiB, 4 * MiB]);
  const gone = path(t, 'main', 'old_path');
  assert.deepEqual([gone.total, gone.base, gone.span], [0, 0.5 * MiB, 0.5 * MiB]);
  /* span >= both values and the children's spans: widths stay nested. */
  const main = child(t.root, 'main');
  assert.equal(main.span, main.children.reduce((s, c) => s + c.span, 0));
  assert.ok(main.span > main.total && main.span > main.base);
  assert.equal(t.maxAbsDelta, 23 * MiB);
});

test('baselineIndex pairs sample types by type and unit, else by position', () => {
  const a = { sampleTypes: [{ type: 'x', unit: 'count' }, { type: 'y', unit: 'bytes' }] };
  const b = { sampleTypes: [{ type: 'y', unit: 'bytes' }, { type: 'x', unit: 'count' }] };
  assert.equal(baselineIndex(a, 0, b), 1);
  assert.equal(baselineIndex(a, 1, b), 0);
  const one = { sampleTypes: [{ type: 'z', unit: 'count' }] };
  assert.equal(baselineIndex(a, 1, one), 0);
});

test('topFunctions counts a recursive function once per stack', () => {
  const p = parseProfile(profileOf([
    { frames: ['main', 'walk', 'walk', 'walk', 'leaf'], values: [10] },
    { frames: ['main', 'walk'], values: [5] },
  ]));
  const top = new Map(topFunctions(buildTree(p, 0).root).map((e) => [e.name, e]));
  assert.deepEqual([top.get('walk').total, top.get('walk').self], [15, 5]);
  assert.deepEqual([top.get('main').total, top.get('main').self], [15, 0]);
  assert.deepEqual([top.get('leaf').total, top.get('leaf').self], [10, 10]);
});

test('markMatches marks matching frames and counts a matching subtree once', () => {
  const base = parseProfile(fixture('heap_base.json')), now = parseProfile(fixture('heap_now.json'));
  const t = buildTree(now, 3, base, 3);
  const m = markMatches(t, /serve|cache_put/);
  assert.equal(m.count, 2);
  assert.equal(m.share, 25 * MiB, 'cache_put is under serve: not counted twice');
  assert.equal(m.baseShare, 5 * MiB);
  assert.equal(path(t, 'main', 'serve', 'handle_request', 'cache_put').match, true);
  assert.equal(markMatches(t, null).count, 0);
  assert.equal(path(t, 'main', 'serve').match, false, 'a null search clears the marks');
});

test('exactNameSearch matches one function name, metacharacters and all', () => {
  const re = new RegExp(exactNameSearch('operator new[](unsigned long)'));
  assert.ok(re.test('operator new[](unsigned long)'));
  assert.ok(!re.test('operator new[](unsigned long) const'));
});

/* ---- threads_model.js */

test('parseThreads groups the threads dump by stack, largest group first', () => {
  const t = parseThreads(fixture('threads.json'));
  assert.equal(t.total, 7);
  assert.deepEqual([...t.states].sort(), [['running', 1], ['sleeping', 6]]);
  assert.equal(t.groups.length, 4);
  const g = t.groups[0];
  assert.equal(g.count, 4);
  assert.equal(g.frames[0], 'pthread_cond_wait', 'leaf first');
  assert.equal(g.frames[1], 'worker_loop demo.c:88');
  assert.deepEqual(g.names, ['worker-1 (100)', 'worker-2 (101)', 'worker-3 (102)', 'worker-4 (103)']);
  assert.ok(t.groups.some((x) => x.frames[0] === '(no stack: the thread blocks the dump signal)'));
});

test('parseThreads reads the threads profile: counted labels and states', () => {
  const t = parseThreads(fixture('threads_profile.json'));
  assert.equal(t.total, 7);
  assert.deepEqual([...t.states].sort(), [['running', 1], ['sleeping', 6]]);
  const sleeper = t.groups.find((g) => g.frames[0] === 'nanosleep');
  assert.equal(sleeper.count, 2);
  assert.deepEqual(sleeper.names, ['sleeper \u00d72']);
  assert.deepEqual([...sleeper.states].sort(), [['running', 1], ['sleeping', 1]]);
});

test('threadsAsProfile: one stack per thread under its state', () => {
  const p = threadsAsProfile(fixture('threads.json'));
  assert.equal(p.stacks.length, 7);
  assert.deepEqual(stackNames(p, p.stacks[0]), ['state: sleeping', 'clone3', 'start_thread', 'worker_loop', 'pthread_cond_wait']);
  const t = buildTree(p, 0);
  assert.equal(child(t.root, 'state: sleeping').total, 6);
  /* The threads profile shape passes through parseProfile. */
  assert.equal(threadsAsProfile(fixture('threads_profile.json')).name, 'threads');
});

/* ---- tasks_model.js */

test('parseTasks: overdue tasks, oldest first, birth stacks, counts by kind', () => {
  const t = parseTasks(fixture('tasks.json'));
  assert.equal(t.total, 3);
  assert.deepEqual(t.overdue.map((x) => [x.id, x.overdue]), [['1.1', 10.5]]);
  assert.deepEqual(t.oldest.map((x) => x.id), ['3.1', '1.1', '7.2']);
  assert.equal(t.oldest[0].age, 95);
  assert.deepEqual(t.oldest[0].birth.slice(0, 2), ['introspect_task_begin', 'route_leak demo_tasks.c:31']);
  assert.equal(t.counts.get('request live'), 2);
  assert.equal(t.counts.get('request in "waiting on db"'), 1);
  assert.equal(t.counts.get('job started'), 3, 'the counter survives a state of the same name');
  assert.equal(t.counts.get('job in "started"'), 1);
  assert.equal(t.counts.get('request deadline misses'), 1);
  assert.ok(!t.counts.has('job overdue'), 'zero counts are left out');
});

test('parseTasks reads ages in any unit suffix, and a bare list', () => {
  const t = parseTasks([{ id: 1, kind: 'job', age_ms: 1500, overdue_ns: 2e9 }, { id: 2, kind: 'job', age: 3 }]);
  assert.deepEqual(t.oldest.map((x) => [x.id, x.age]), [[2, 3], [1, 1.5]]);
  assert.equal(t.overdue[0].overdue, 2);
  assert.equal(t.counts.get('job'), 2);
});

/* ---- metrics_model.js */

test('parseVars: preferred memstats first, clocks skipped, pools with histograms', () => {
  const v = parseVars(fixture('vars.json'));
  assert.deepEqual(v.memKeys, ['rss_bytes', 'threads', 'open_fds', 'user_cpu_seconds']);
  assert.equal(v.pools.length, 1);
  const db = v.pools[0];
  assert.equal(db.name, 'db');
  assert.equal(db.stats.get('WaitCount'), 91);
  assert.ok(!db.stats.has('WaitHistogram.count'), 'the histogram is not a figure');
  assert.equal(fmtValue(db.stats.get('WaitDuration'), unitOfKey('WaitDuration')), '2.40 s');
  assert.equal(db.histogram.counts.length, 23);
  assert.equal(db.histogram.counts.reduce((a, b) => a + b, 0), 91);
  assert.equal(db.histogram.labels[3], '\u226410 \u00b5s');
  assert.equal(db.histogram.labels[22], '+Inf');
});

test('unitOfKey reads units from memstats names', () => {
  assert.equal(unitOfKey('rss_bytes'), 'bytes');
  assert.equal(unitOfKey('HeapInuse'), 'bytes');
  assert.equal(unitOfKey('PauseTotalNs'), 'nanoseconds');
  assert.equal(unitOfKey('user_cpu_seconds'), 'seconds');
  assert.equal(unitOfKey('open_fds'), 'count');
});

test('parseHistogram accepts bucket lists, cumulative counts and keyed objects', () => {
  const list = parseHistogram({ unit: 'seconds', buckets: [{ le: 0.001, count: 2 }, { le: '+Inf', count: 1 }] });
  assert.deepEqual(list.labels, ['\u22641 ms', '+Inf']);
  assert.deepEqual(list.counts, [2, 1]);
  const cum = parseHistogram({ bounds: [1, 2], counts: [3, 5, 6], cumulative: true });
  assert.deepEqual(cum.counts, [3, 2, 1]);
  const keyed = parseHistogram({ '0.5': 4, '+Inf': 1, unit: 'seconds' });
  assert.deepEqual(keyed.counts, [4, 1]);
  assert.equal(parseHistogram({ nothing: 'here' }), null);
});

/* ---- api.js and kinds.js, against a stubbed fetch */

function stubFetch(answers) {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url);
    let a = answers[url.split('?')[0]] || [404, 'unknown path\n'];
    if (Array.isArray(a[0])) a = a.length > 1 ? a.shift() : a[0]; /* a sequence: one per request */
    const [status, body, headers] = a;
    return new Response(body, { status, headers });
  };
  return asked;
}

test('kindUrl: timed kinds take seconds, json asks for the model', () => {
  const cpu = KINDS.find((k) => k.id === 'cpu'), heap = KINDS.find((k) => k.id === 'heap');
  assert.equal(kindUrl(cpu, cpu.path, 5, true), '/debug/pprof/profile?seconds=5&format=json');
  assert.equal(kindUrl(cpu, cpu.path, 5, false), '/debug/pprof/profile?seconds=5');
  assert.equal(kindUrl(heap, heap.path, 5, true), '/debug/pprof/heap?format=json');
  assert.equal(kindUrl(heap, heap.path, 5, false), '/debug/pprof/heap');
  assert.deepEqual(DIFF_KINDS.map((k) => k.id), ['heap', 'allocs']);
});

test('fetchProfile falls back to the alias path on 404', async () => {
  const threads = KINDS.find((k) => k.id === 'threads');
  const asked = stubFetch({ '/debug/pprof/goroutine': [200, JSON.stringify(fixture('threads_profile.json'))] });
  const { json, path: used } = await fetchProfile(threads, 0);
  assert.equal(used, '/debug/pprof/goroutine');
  assert.deepEqual(asked, ['/debug/pprof/threads?format=json', '/debug/pprof/goroutine?format=json']);
  assert.equal(parseThreads(json).total, 7);
});

test('a 404 is "not available in this build"; other errors carry the first line', async () => {
  stubFetch({ '/debug/pprof/heap': [500, 'heap: out of memory\nmore detail\n'] });
  await assert.rejects(fetchData('/debug/pprof/block?format=json'),
    (e) => e instanceof NotAvailable && /not available in this build \(\/debug\/pprof\/block answered 404\)/.test(e.message));
  await assert.rejects(fetchData('/debug/pprof/heap?format=json'),
    (e) => !(e instanceof NotAvailable) && e.message === '/debug/pprof/heap: HTTP 500 \u2013 heap: out of memory');
  assert.equal(errorText(Object.assign(new Error('x'), { name: 'AbortError' })), 'cancelled');
});

test('a busy endpoint (409, 429) is asked again after Retry-After; a cancel stops the wait', async () => {
  const busy = [409, 'a cpu-profile is already running\n', { 'Retry-After': '0' }];
  let asked = stubFetch({ '/debug/pprof/profile': [busy, [429, 'too many\n', {}], [200, '{"ok":1}']] });
  assert.deepEqual(await fetchData('/debug/pprof/profile?seconds=1&format=json'), { ok: 1 });
  assert.equal(asked.length, 3);
  asked = stubFetch({ '/debug/pprof/profile': [busy] });
  await assert.rejects(fetchData('/debug/pprof/profile?seconds=1&format=json'),
    (e) => e.message === '/debug/pprof/profile: HTTP 409 \u2013 a cpu-profile is already running');
  assert.equal(asked.length, 1 + BUSY_RETRIES);
  stubFetch({ '/debug/pprof/profile': [[409, 'busy\n', { 'Retry-After': '20' }]] });
  const ctl = new AbortController();
  const waiting = fetchData('/debug/pprof/profile?seconds=1&format=json', { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 50);
  await assert.rejects(waiting, (e) => errorText(e) === 'cancelled');
});

/* ---- leaks_model.js: fixtures from tests/leaks/test_leaks_sim.c (IX_LEAKS_FIXTURES) */

test('parseLeaks: suspects with evidence, stack and series; retained times', () => {
  const r = parseLeaks(fixture('leaks.json'));
  assert.equal(r.suspects.length, 1);
  const s = r.suspects[0];
  assert.equal(s.rank, 1);
  assert.equal(s.kind, 'heap');
  assert.equal(s.unit, 'bytes');
  assert.match(s.label, /^leak_request_buffer /);
  assert.ok(s.growthPerHour > 100 * MiB && s.tau > 0.5 && s.z >= 4 && s.samples >= 8);
  assert.equal(s.series.length, r.snapshots);
  assert.ok(s.series[s.series.length - 1].v > s.series[0].v);
  assert.equal(r.times.length, r.snapshots);
  assert.ok(r.process.some((p) => p.name === 'rss_bytes' && p.unit === 'bytes'));
  assert.equal(parseLeaks({}).suspects.length, 0);
  assert.equal(baseUrl(1700000000.4), '/debug/pprof/heap?base=1700000000&format=json');
});

test('profileAt: the heap now minus the delta since T is the heap at T', () => {
  const now = parseProfile(fixture('leaks_heap_now.json'));
  const delta = parseProfile(fixture('leaks_heap_delta.json'));
  const at = profileAt(now, delta);
  const vi = now.sampleTypes.findIndex((t) => t.type === 'inuse_space');
  const sum = (p) => p.stacks.reduce((a, s) => a + (Number(s.values[vi]) || 0), 0);
  assert.equal(sum(at), sum(now) - sum(delta));
  /* drawn as a diff, the leak grew between T and now */
  const t = buildTree(now, vi, at, baselineIndex(now, vi, at));
  const leak = [...t.root.children].flatMap(function walk(n) { return [n, ...n.children.flatMap(walk)]; })
    .find((n) => n.name === 'leak_request_buffer');
  assert.ok(leak && leak.total > leak.base, 'leak_request_buffer grew');
});

/* ---- wall profiles: idle waits hidden as -tagignore idle=true does */

test('idle waits are dropped, everything else kept', () => {
  const j = profileOf([
    { frames: ['start_thread', 'event_loop', 'epoll_wait'], values: [3, 3e9] },
    { frames: ['start_thread', 'worker', 'pthread_mutex_lock'], values: [2, 2e9] },
    { frames: ['start_thread', 'worker', 'compute'], values: [1, 1e9] },
  ], [{ type: 'samples', unit: 'count' }, { type: 'wall', unit: 'nanoseconds' }]);
  j.samples[0].labels = { thread: 'loop', state: 'epoll_wait', idle: 'true' };
  j.samples[1].labels = { thread: 'w', state: 'futex', idle: 'false' };
  j.samples[2].labels = { thread: 'w', state: 'running', idle: 'false' };
  const p = parseProfile(j);
  assert.equal(hasIdle(p), true);
  const q = withoutIdle(p);
  assert.equal(q.hiddenIdle, 1);
  const t = buildTree(q, 1);
  assert.equal(t.root.total, 3e9);
  assert.equal(path(t, 'start_thread', 'event_loop'), undefined);
  assert.equal(path(t, 'start_thread', 'worker').total, 3e9);
  assert.equal(buildTree(p, 1).root.total, 6e9);
  assert.equal(hasIdle(parseProfile(profileOf([{ frames: ['a'], values: [1] }]))), false);
});

/* ---- processes_model.js */

test('a process tree gives one choice per process, the root first', () => {
  const json = { self: 10, processes: [
    { pid: 10, ppid: 1, root: true, role: 'nginx: master process nginx', comm: 'nginx' },
    { pid: 11, ppid: 10, root: false, role: 'nginx: worker process', comm: 'nginx' },
  ] };
  const c = processChoices(json);
  assert.equal(c.length, 2);
  assert.deepEqual(c.map((x) => x.pid), [10, 11]);
  assert.equal(c[0].label, '10 (root) nginx: master process nginx');
  assert.equal(c[1].label, '11 nginx: worker process');
  assert.deepEqual(processChoices({ self: 10, processes: [json.processes[0]] }), []);
  assert.deepEqual(processChoices(null), []);
});

test('a process is asked with ?pid=N, added to any query', () => {
  assert.equal(withPid('/debug/vars', 12), '/debug/vars?pid=12');
  assert.equal(withPid('/debug/pprof/heap?format=json', 12), '/debug/pprof/heap?format=json&pid=12');
  assert.equal(withPid('/debug/vars', null), '/debug/vars');
});

/* ---- requests_model.js */

test('requests: routes busiest first, the chosen window, SLO burn and alerts', () => {
  const r = parseRequests(fixture('requests.json'), '1m');
  assert.deepEqual(r.rows.map((x) => x.route), ['/api/items', '/api/pay']);
  assert.equal(r.rows[1].errorRatio, 0.5);
  assert.equal(r.rows[1].sparkCount.length, 30);
  assert.ok(r.rows[0].p50 > 0 && r.rows[0].p50 <= r.rows[0].p95 && r.rows[0].p95 <= r.rows[0].max);
  const slos = parseSlo(fixture('slo.json'));
  const pay = slos.find((s) => s.name === '/api/pay:avail@99.9');
  assert.equal(pay.burn.length, 4);
  assert.ok(Math.abs(pay.burn[0] - 500) < 1e-6);
  assert.ok(pay.fast && pay.slow);
  assert.deepEqual(parseRequests(null).rows, []);
  assert.deepEqual(parseSlo({}), []);
});

test('profiles split and filter by a sample label (route)', () => {
  const p = profileOf([{ frames: ['main', 'heavy'], values: [3] }, { frames: ['main', 'light'], values: [1] }, { frames: ['main', 'idle'], values: [2] }]);
  p.samples[0].labels = { route: '/heavy', thread: 'w1' };
  p.samples[1].labels = { route: '/light', thread: 'w1' };
  p.samples[2].labels = { thread: 'w2' };
  const prof = parseProfile(p);
  assert.deepEqual(labelKeys(prof).map((k) => k.key), ['thread', 'route']);
  assert.deepEqual(labelKeys(prof).find((k) => k.key === 'route').values, ['/heavy', '/light']);
  const split = buildTree(byLabel(prof, 'route', { split: true }), 0);
  assert.equal(path(split, 'route=/heavy', 'main', 'heavy').total, 3);
  assert.equal(path(split, 'route=/light', 'main', 'light').total, 1);
  assert.equal(path(split, 'route unset', 'main', 'idle').total, 2);
  const only = buildTree(byLabel(prof, 'route', { only: '/light' }), 0);
  assert.equal(only.root.total, 1);
  assert.equal(path(only, 'main', 'light').total, 1);
});

/* fixtures/tree_threads.pb.gz: the merged goroutine profile of
 * tests/tree/tree_server.c (a root and 2 workers), as the root serves it. */
test('decodePprof reads a merged tree profile into the JSON model, a pid per process', async () => {
  const m = decodePprof(await gunzip(fs.readFileSync(new URL('fixtures/tree_threads.pb.gz', import.meta.url))), 'threads');
  assert.deepEqual(m.sample_types, [{ type: 'goroutine', unit: 'count' }]);
  assert.equal(m.name, 'threads');
  const pids = pidsOf(m);
  assert.equal(pids.length, 3);
  assert.ok(m.comments.includes('introspect: process tree: 3 of 3 processes merged'), m.comments.join('|'));
  for (const s of m.samples) {
    assert.equal(typeof s.labels.pid, 'number');
    assert.equal(typeof s.labels.process, 'string');
    for (const l of s.locations) assert.ok(l >= 0 && l < m.locations.length);
  }
  const p = parseProfile(m);
  assert.equal(p.stacks.length, m.samples.length);
  assert.ok(p.names.includes('epoll_wait'), 'symbolized frames keep their names');
  /* The split by pid that the page shows for the whole tree. */
  const roots = buildTree(byLabel(p, 'pid', { split: true }), 0).root.children.map((c) => c.name).sort();
  assert.deepEqual(roots, pids.map((x) => 'pid=' + x).sort());
});

test('decodePprof folds a run of unsymbolized frames of one mapping, as the JSON model does', () => {
  /* A hand-built profile.proto: strings, one mapping, 3 locations without
   * lines (the stripped program), 1 with a function; one sample, leaf first. */
  const bytes = [];
  const varint = (v) => { do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; bytes.push(b); } while (v); };
  const field = (n, build) => { const saved = bytes.splice(0); build(); const body = bytes.splice(0); bytes.push(...saved); varint(n * 8 + 2); varint(body.length); bytes.push(...body); };
  const num = (n, v) => { varint(n * 8); varint(v); };
  const strs = ['', 'samples', 'count', '/usr/sbin/nginx', 'main'];
  for (const x of strs) field(6, () => bytes.push(...new TextEncoder().encode(x)));
  field(1, () => { num(1, 1); num(2, 2); });
  field(3, () => { num(1, 1); num(2, 0x1000); num(3, 0x9000); num(5, 3); });
  field(5, () => { num(1, 1); num(2, 4); });
  for (const id of [1, 2, 3]) field(4, () => { num(1, id); num(2, 1); num(3, 0x1000 + id); });
  field(4, () => { num(1, 4); num(2, 1); num(3, 0x2000); field(4, () => { num(1, 1); num(2, 7); }); });
  field(2, () => { field(1, () => { varint(1); varint(2); varint(4); varint(3); }); num(2, 5); });
  const m = decodePprof(new Uint8Array(bytes));
  assert.equal(m.samples.length, 1);
  const names = m.samples[0].locations.map((i) => m.locations[i].lines.map((l) => m.functions[l.function].name).join('/'));
  assert.deepEqual(names, ['[nginx]', 'main', '[nginx]']);
  assert.deepEqual(m.samples[0].values, [5]);
});
