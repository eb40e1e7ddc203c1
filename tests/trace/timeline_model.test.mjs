/* The Timeline's model (web/timeline_model.js) in Node: lanes, nesting
 * depth, async and B/E pairs, counters and stacks from stackFrames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseTrace, sampleAt, spanAt } from '../../web/timeline_model.js';

const trace = {
  traceEvents: [
    { ph: 'M', pid: 1, tid: 7, name: 'thread_name', args: { name: 'worker (7)' } },
    { ph: 'X', pid: 1, tid: 7, ts: 0.1, dur: 0.2, name: 'a', cat: 'state' },
    { ph: 'X', pid: 1, tid: 7, ts: 0.3, dur: 0.4, name: 'b', cat: 'state', sf: 's.1' },
    { ph: 'X', pid: 1, tid: 8, ts: 0, dur: 10, name: 'task', cat: 'task' },
    { ph: 'X', pid: 1, tid: 8, ts: 2, dur: 3, name: 'wait', cat: 'pool' },
    { ph: 'b', pid: 1, tid: 8, ts: 4, id: '0x1', cat: 'task', name: 'async' },
    { ph: 'e', pid: 1, tid: 8, ts: 12, id: '0x1', cat: 'task', name: 'async' },
    { ph: 'B', pid: 1, tid: 9, ts: 1, name: 'be' },
    { ph: 'E', pid: 1, tid: 9, ts: 3 },
    { ph: 'C', pid: 1, tid: 0, ts: 5, name: 'threads', args: { value: 4 } },
    { ph: 'i', pid: 1, tid: 8, ts: 6, s: 't', cat: 'cpu', name: 'pool_get', sf: 's.1', args: { weight: 1 } },
    { ph: 'i', pid: 1, tid: 10, ts: 1, s: 't', cat: 'cpu', name: 'main', sf: 's.0', args: { weight: 2 } },
    { ph: 'i', pid: 1, tid: 8, ts: 7, s: 't', cat: 'task', name: 'deadline missed' },
  ],
  stackFrames: { 's.0': { name: 'main' }, 's.1': { name: 'pool_get', category: '/src/x.c:3', parent: 's.0' } },
  otherData: { dropped_events: 0 },
};

test('contiguous spans share a row despite floating-point sums', () => {
  const m = parseTrace(trace);
  const l = m.lanes.find((x) => x.tid === 7);
  assert.equal(l.name, 'worker (7)');
  assert.deepEqual(l.spans.map((s) => s.depth), [0, 0]);
  assert.deepEqual(l.spans[1].stack, ['pool_get x.c:3', 'main']);
});

test('nested spans go one row down; async and B/E pairs become spans', () => {
  const m = parseTrace(trace);
  const l = m.lanes.find((x) => x.tid === 8);
  const by = Object.fromEntries(l.spans.map((s) => [s.name, s]));
  assert.equal(by.task.depth, 0);
  assert.equal(by.wait.depth, 1);
  assert.equal(by.async.dur, 8);
  assert.equal(spanAt(l, 2.5, 1).name, 'wait');
  assert.equal(m.lanes.find((x) => x.tid === 9).spans[0].dur, 2);
  assert.deepEqual(m.counters, [{ name: 'threads', points: [[5, 4]] }]);
  assert.equal(m.end, 12);
});

test('CPU samples go to their thread\'s lane with their stacks, not among its spans', () => {
  const m = parseTrace(trace);
  const l = m.lanes.find((x) => x.tid === 8);
  assert.equal(l.samples.length, 1);
  assert.equal(l.spans.length, 3);
  assert.deepEqual(l.samples[0].stack, ['pool_get x.c:3', 'main']);
  assert.equal(sampleAt(l, 6.2, 0.5).name, 'pool_get');
  assert.equal(sampleAt(l, 8, 0.5), null);
  /* a thread with samples only still gets a lane (no span rows) */
  const only = m.lanes.find((x) => x.tid === 10);
  assert.equal(only.depth, 0);
  assert.equal(only.samples[0].args.weight, 2);
});

test('a process tree\'s trace: lanes process by process, root first, counters per process', () => {
  const m = parseTrace({ traceEvents: [
    { ph: 'M', pid: 5, tid: 0, name: 'process_sort_index', args: { sort_index: 1 } },
    { ph: 'M', pid: 9, tid: 0, name: 'process_sort_index', args: { sort_index: 0 } },
    { ph: 'M', pid: 5, tid: 6, name: 'thread_name', args: { name: 'w (6)' } },
    { ph: 'X', pid: 5, tid: 6, ts: 0, dur: 1, name: 'a', cat: 'state' },
    { ph: 'X', pid: 9, tid: 10, ts: 0, dur: 1, name: 'b', cat: 'state' },
    { ph: 'C', pid: 5, tid: 0, ts: 1, name: 'rss', args: { value: 1 } },
    { ph: 'C', pid: 9, tid: 0, ts: 1, name: 'rss', args: { value: 2 } },
  ] });
  assert.deepEqual(m.lanes.map((l) => l.pid), [9, 5]);
  assert.equal(m.lanes[1].name, 'pid 5: w (6)');
  assert.deepEqual(m.counters.map((c) => [c.name, c.points[0][1]]), [['pid 9: rss', 2], ['pid 5: rss', 1]]);
  /* one process: names as they are */
  assert.equal(parseTrace(trace).counters[0].name, 'threads');
});

test('a file without traceEvents is refused', () => {
  assert.throws(() => parseTrace({}), /traceEvents/);
});
