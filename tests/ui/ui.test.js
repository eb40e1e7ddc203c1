/* The web UI in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core). Run by run.sh under ctest.
 *
 * What it proves, in order:
 *   - the page is served embedded, with the right content types and a CSP
 *     that allows only 'self', and runs without console errors or CSP
 *     violations; /debug/pprof/ui redirects; the index links to it;
 *   - a synthetic 10,000-stack profile draws (timings are logged, not
 *     asserted); hover tooltip, regex search with matched share, click to
 *     zoom with breadcrumb and reset, icicle toggle, sortable top table;
 *   - a heap diff from fixtures draws grown frames red and shrunk ones blue;
 *   - profile kinds the build does not serve say "not available in this
 *     build"; threads, tasks and metrics views draw fixture data, then the
 *     demo's live threads, tasks, pools and block profile (download is the
 *     gzipped pprof, the go tool pprof command is copied to the clipboard);
 *   - on the running demo, when the build serves them: a 2-second CPU
 *     capture whose flame graph contains the demo's hot function, search,
 *     zoom and cancel; a live heap diff;
 *   - with a token configured, the page refuses a browser without it (401)
 *     and /debug/pprof/ui/?token= logs it in: cookie set, token gone from
 *     the address bar, the page's own requests served.
 * A screenshot goes to $IX_BUILD_DIR/ui.png (and docs/ui.png when
 * IX_UI_UPDATE_SCREENSHOT=1). */
'use strict';
const { chromium } = require('playwright-core');
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BUILD = process.env.IX_BUILD_DIR;
const SRC = process.env.IX_SOURCE_DIR || path.resolve(__dirname, '../..');
const FIX = path.join(__dirname, 'fixtures');
const HOT = 'demo_hot_checksum';
/* No step has a time limit of its own (a loaded CI machine took 5.7 s to
 * build the 10k-stack tree): a watchdog fails the test when nothing has
 * progressed (a logged step, a wait met) for STALL_MS, naming the last step. */
const STALL_MS = 120000;
let lastStep = { t: Date.now(), what: 'start' };
const progress = (what) => { lastStep = { t: Date.now(), what }; };
const log = (...a) => { progress(a.join(' ')); console.log('test_ui:', ...a); };

/* ---- the server under test: the demo when built, else the bare ui_server */
function startServer(token) {
  const demo = path.join(BUILD, 'examples', 'introspect-demo');
  const bare = path.join(BUILD, 'tests', 'ui_server');
  const isDemo = !token && fs.existsSync(demo);
  const cmd = isDemo ? demo : bare;
  /* timeout(1) guarantees the server dies even if this script is killed. */
  const args = ['-s', 'KILL', '3600', cmd, ...(isDemo ? ['--listen', '127.0.0.1:0', '--traffic', '50'] : [])];
  const env = { ...process.env, INTROSPECT_ADDR: '127.0.0.1:0' };
  if (token) env.INTROSPECT_TOKEN = token;
  const child = spawn('timeout', args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = isDemo ? /profiles index:\s+http:\/\/127\.0\.0\.1:(\d+)\//.exec(out) : /port (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), isDemo });
    });
    child.on('exit', (c) => reject(new Error(cmd + ' exited with ' + c + ': ' + out)));
  });
}

async function served(base) {
  const r = await fetch(base + '/debug/pprof/?format=json');
  const j = await r.json();
  const set = new Set(j.endpoints.map((e) => e.path));
  /* Probe the profile paths too: a producer may not list itself yet. */
  for (const p of ['/debug/pprof/profile', '/debug/pprof/heap', '/debug/pprof/allocs', '/debug/pprof/threads',
    '/debug/pprof/block', '/debug/pprof/tasks']) {
    if (set.has(p)) continue;
    const q = p.endsWith('/profile') ? '?seconds=1&format=json' : '?format=json';
    try {
      const res = await fetch(base + p + q);
      if (res.status !== 404) set.add(p);
      await res.arrayBuffer();
    } catch (e) { /* treated as absent */ }
    progress('probed ' + p);
  }
  return set;
}

const { syntheticProfile } = require('./synthetic.js');

/* ---- helpers in the page */
const frames = (page, view) => page.evaluate((v) => window.introspect.views[v].flame.frames(), view);
const flameInfo = (page, view) => page.evaluate((v) => {
  const f = window.introspect.views[v].flame;
  return { buildMs: f.buildMs, drawMs: f.lastDrawMs, drawn: f.drawnCount, nodes: f.tree.nodes, zoom: f.zoom.name,
    crumbs: [...f.crumbs.querySelectorAll('button')].map((b) => b.textContent), match: f.matchInfo.textContent };
}, view);

async function canvasBox(page, view) {
  return page.locator('#view-' + view + ' canvas.fg-canvas').boundingBox();
}

/* The colour drawn at a frame's centre, read back from the canvas. */
async function pixelAt(page, view, f) {
  return page.evaluate(([v, x, y]) => {
    const c = window.introspect.views[v].flame.canvas;
    const dpr = c.width / parseFloat(c.style.width);
    const d = c.getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [view, f.x + Math.min(f.w / 2, 2), f.y + 3]);
}

/* Scroll a frame into view; its centre (or a point near its left end) in page coordinates. */
async function pointOf(page, view, f) {
  return page.evaluate(([v, fx, fy, fw, fh]) => {
    const fl = window.introspect.views[v].flame;
    const box = fl.canvasBox;
    box.scrollTop = Math.max(0, fy - box.clientHeight / 2);
    box.scrollIntoView({ block: 'nearest' });
    const r = fl.canvas.getBoundingClientRect();
    return { x: r.left + fx + Math.min(fw / 2, 40), y: r.top + fy + fh / 2 };
  }, [view, f.x, f.y, f.w, f.h]);
}

async function clickFrame(page, view, f) {
  const p = await pointOf(page, view, f);
  await page.mouse.click(p.x, p.y);
}

async function hoverFrame(page, view, f) {
  const p = await pointOf(page, view, f);
  await page.mouse.move(p.x, p.y);
  await page.waitForSelector('#tooltip:not([hidden])');
  return page.textContent('#tooltip');
}

async function setFile(page, selector, name, obj) {
  await page.setInputFiles(selector, { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(obj)) });
}

const readFix = (n) => JSON.parse(fs.readFileSync(path.join(FIX, n), 'utf8'));

/* ---- the checks */
async function checkServing(base) {
  const index = await fetch(base + '/debug/pprof/ui/');
  assert.strictEqual(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  const csp = index.headers.get('content-security-policy');
  assert.ok(csp && /default-src 'self'/.test(csp) && !/unsafe-inline|\*|http:/.test(csp), 'CSP: ' + csp);
  const html = await index.text();
  assert.ok(!/<script>|<style>|style=/.test(html), 'index.html must not carry inline script or style');
  assert.ok(/<script type="module" src="app.js">/.test(html), 'index.html loads app.js as a module');
  /* Module scripts are refused unless served as JavaScript: check every module. */
  const modules = fs.readdirSync(path.join(SRC, 'web')).filter((f) => f.endsWith('.js'));
  const assets = [...modules.map((f) => [f, /^text\/javascript/]), ['style.css', /^text\/css/]];
  for (const [file, type] of assets) {
    const r = await fetch(base + '/debug/pprof/ui/' + file);
    assert.strictEqual(r.status, 200, file);
    assert.match(r.headers.get('content-type'), type);
    assert.strictEqual(await r.text(), fs.readFileSync(path.join(SRC, 'web', file), 'utf8'), file + ' is the embedded copy of web/' + file);
  }
  const redirect = await fetch(base + '/debug/pprof/ui', { redirect: 'manual' });
  assert.strictEqual(redirect.status, 301);
  assert.strictEqual(redirect.headers.get('location'), '/debug/pprof/ui/');
  assert.strictEqual((await fetch(base + '/debug/pprof/ui/nope.js')).status, 404);
  assert.strictEqual((await fetch(base + '/debug/pprof/ui/..%2Fvars')).status, 404);
  const idx = await (await fetch(base + '/debug/pprof/')).text();
  assert.ok(idx.includes('href="/debug/pprof/ui/"'), 'the index links the UI');
  log('serving: content types, CSP, redirect, 404s, index link ok');
}

async function checkSynthetic(page) {
  const prof = syntheticProfile(10000);
  await setFile(page, '#open-file', 'synthetic.json', prof);
  await page.waitForFunction(() => /10000 stacks/.test(document.getElementById('status').textContent));
  await page.waitForFunction(() => window.introspect.views.profile.flame.drawn.length > 0);
  let info = await flameInfo(page, 'profile');
  log(`10k stacks: ${info.nodes} tree nodes, tree built in ${info.buildMs.toFixed(1)} ms, ` +
      `${info.drawn} frames drawn in ${info.drawMs.toFixed(1)} ms`);
  /* Redraw timing over a few frames (logged only). */
  const redraw = await page.evaluate(async () => {
    const f = window.introspect.views.profile.flame;
    const ts = [];
    for (let i = 0; i < 10; i++) { f.draw(); ts.push(f.lastDrawMs); }
    ts.sort((a, b) => a - b);
    return ts[5];
  });
  log(`10k stacks: median full redraw ${redraw.toFixed(1)} ms`);
  const fs0 = await frames(page, 'profile');
  assert.ok(fs0.length > 50, 'frames drawn: ' + fs0.length);
  const rootFrame = fs0.find((f) => f.depth === 0);
  assert.ok(rootFrame && rootFrame.name === 'all');
  assert.ok(fs0.every((f) => f.w >= 0.5), 'no frame under half a pixel is drawn');

  /* Hover: the tooltip names the frame with total and share. */
  const mainF = fs0.find((f) => f.name === 'main');
  const tip = await hoverFrame(page, 'profile', mainF);
  assert.ok(tip.includes('main') && /total [\d.]+ (s|min) \(100\.00%\)/.test(tip), 'tooltip: ' + tip);

  /* Search: a regex highlights frames and reports the matched share. */
  await page.fill('#view-profile .fg-search', 'synthetic_h.t');
  await page.waitForFunction(() => /matched/.test(document.querySelector('#view-profile .fg-match').textContent));
  info = await flameInfo(page, 'profile');
  const share = Number(/matched ([\d.]+)%/.exec(info.match)[1]);
  assert.ok(share > 5 && share < 100, 'matched share ' + info.match);
  await page.waitForTimeout(50);
  const fs1 = await frames(page, 'profile');
  const hits = fs1.filter((f) => f.match);
  assert.ok(hits.length > 0 && hits.every((f) => f.name === 'synthetic_hot'), 'highlighted frames');
  const px = await pixelAt(page, 'profile', hits.sort((a, b) => b.w - a.w)[0]);
  assert.ok(px[0] > 180 && px[2] > 180 && px[1] < 120, 'a match is drawn magenta, got ' + px);
  await page.fill('#view-profile .fg-search', '([');
  await page.waitForSelector('#view-profile .fg-search.bad');
  await page.fill('#view-profile .fg-search', '');

  /* Zoom: click a frame at depth 2; it fills the width; breadcrumb; reset. */
  const target = fs1.filter((f) => f.depth === 2).sort((a, b) => b.w - a.w)[0];
  const box = await canvasBox(page, 'profile');
  await clickFrame(page, 'profile', target);
  await page.waitForFunction((n) => window.introspect.views.profile.flame.zoom.name === n, target.name);
  await page.waitForTimeout(50);
  info = await flameInfo(page, 'profile');
  assert.deepStrictEqual(info.crumbs.length, 3, 'breadcrumb all > main > ' + target.name + ': ' + info.crumbs);
  const zoomed = (await frames(page, 'profile')).find((f) => f.depth === 2 && f.name === target.name);
  assert.ok(zoomed.w > box.width - 2 && zoomed.w > target.w, 'zoomed frame fills the width');
  await page.click('#view-profile .fg-crumbs button:first-child');
  await page.waitForFunction(() => window.introspect.views.profile.flame.zoom.name === 'all');
  await clickFrame(page, 'profile', target);
  await page.click('#view-profile .fg-reset');
  await page.waitForFunction(() => window.introspect.views.profile.flame.zoom.name === 'all');

  /* Icicle: the root moves to the top row. */
  await page.click('#view-profile .fg-orient');
  await page.waitForTimeout(50);
  assert.strictEqual((await frames(page, 'profile')).find((f) => f.depth === 0).y, 0);
  await page.click('#view-profile .fg-orient');

  /* Top table: sorted by self, then by total (main first: it is on every stack). */
  const firstRow = () => page.textContent('#view-profile .fg-table tbody tr:first-child td.name');
  await page.click('#view-profile .fg-table th[data-key="total"]');
  assert.strictEqual(await firstRow(), 'main');
  await page.click('#view-profile .fg-table th[data-key="self"]');
  assert.notStrictEqual(await firstRow(), 'main');
  log('synthetic: hover, search, zoom, breadcrumb, reset, icicle, table sorting ok');
}

/* A wall profile (samples labelled idle): "Hide idle waits" drops the event
 * loop's epoll_wait and keeps the lock wait and the CPU time; the go tool
 * pprof command follows with -tagignore idle=true. */
async function checkIdleToggle(page) {
  const names = ['start_thread', 'event_loop', 'epoll_wait', 'worker', 'pthread_mutex_lock', 'compute'];
  const loc = (n) => names.indexOf(n);
  const sample = (fr, v, labels) => ({ locations: fr.map(loc).reverse(), values: [1, v], labels });
  const wall = {
    name: 'wall', sample_types: [{ type: 'samples', unit: 'count' }, { type: 'wall', unit: 'nanoseconds' }],
    functions: names.map((name) => ({ name })),
    locations: names.map((_, i) => ({ address: '0x' + (i + 1).toString(16), lines: [{ function: i }] })),
    samples: [
      sample(['start_thread', 'event_loop', 'epoll_wait'], 6e9, { thread: 'loop', state: 'epoll_wait', idle: 'true' }),
      sample(['start_thread', 'worker', 'pthread_mutex_lock'], 3e9, { thread: 'w', state: 'futex', idle: 'false' }),
      sample(['start_thread', 'worker', 'compute'], 1e9, { thread: 'w', state: 'running', idle: 'false' }),
    ],
  };
  await page.click('#tabs button[data-view="profile"]');
  await page.uncheck('#hide-idle').catch(() => {});
  await setFile(page, '#open-file', 'wall.json', wall);
  await page.waitForFunction(() => /^wall: 3 stacks/.test(document.getElementById('status').textContent));
  assert.ok(await page.isVisible('#idle-box'), 'the idle toggle shows for a profile with idle labels');
  const shown = () => page.evaluate(() => {
    const f = window.introspect.views.profile.flame;
    return { total: f.tree.root.total, names: f.frames().map((x) => x.name) };
  });
  let s = await shown();
  assert.equal(s.total, 10e9);
  assert.ok(s.names.includes('epoll_wait'));
  await page.check('#hide-idle');
  await page.waitForFunction(() => /1 idle-wait stacks hidden/.test(document.getElementById('status').textContent));
  s = await shown();
  assert.equal(s.total, 4e9, 'idle waits removed from the total');
  assert.ok(!s.names.includes('epoll_wait') && !s.names.includes('event_loop'), 'the idle loop is gone');
  assert.ok(s.names.includes('pthread_mutex_lock') && s.names.includes('compute'), 'other waits and CPU stay');
  await page.uncheck('#hide-idle');
  await page.waitForFunction(() => /^wall: 3 stacks/.test(document.getElementById('status').textContent) &&
    !/hidden/.test(document.getElementById('status').textContent));
  assert.equal((await shown()).total, 10e9);
  /* A profile without idle labels hides the toggle. */
  await setFile(page, '#open-file', 'synthetic.json', syntheticProfile(50));
  await page.waitForFunction(() => /50 stacks/.test(document.getElementById('status').textContent));
  assert.ok(!(await page.isVisible('#idle-box')), 'no idle toggle without idle labels');
  log('wall view: "Hide idle waits" drops idle-labelled samples (10 s -> 4 s), keeps lock waits and CPU');
}

async function checkDiffFixtures(page) {
  await page.click('#tabs button[data-view="diff"]');
  await setFile(page, '#diff-base-file', 'heap_base.json', readFix('heap_base.json'));
  await page.waitForFunction(() => /baseline/.test(document.getElementById('diff-status').textContent));
  await setFile(page, '#diff-cur-file', 'heap_now.json', readFix('heap_now.json'));
  await page.waitForFunction(() => /now vs baseline/.test(document.getElementById('diff-status').textContent));
  await page.waitForTimeout(100);
  const fs0 = await frames(page, 'diff');
  const by = (n) => fs0.find((f) => f.name === n);
  const grew = by('cache_put'), shrank = by('parse_json'), gone = by('old_path'), same = by('buffer_alloc');
  assert.ok(grew && grew.total > grew.base, 'cache_put grew');
  assert.ok(shrank && shrank.total < shrank.base, 'parse_json shrank');
  assert.ok(gone && gone.total === 0 && gone.w > 0, 'a vanished frame is still drawn');
  const [r1, g1, b1] = await pixelAt(page, 'diff', grew);
  const [r2, g2, b2] = await pixelAt(page, 'diff', shrank);
  const [r3, g3, b3] = await pixelAt(page, 'diff', same);
  assert.ok(r1 > b1 + 60 && r1 > g1 + 40, 'grown frame red, got ' + [r1, g1, b1]);
  assert.ok(b2 > r2 + 40, 'shrunk frame blue, got ' + [r2, g2, b2]);
  assert.ok(Math.abs(r3 - b3) < 10 && Math.abs(r3 - g3) < 10, 'unchanged frame grey, got ' + [r3, g3, b3]);
  const tip = await hoverFrame(page, 'diff', grew);
  assert.ok(/change: total \+23(\.0)? MiB/.test(tip), 'diff tooltip: ' + tip);
  assert.strictEqual(await page.textContent('#view-diff .fg-table th.sorted'), 'Total \u0394');
  const top = await page.textContent('#view-diff .fg-table tbody tr:first-child td.name');
  assert.ok(['cache_put', 'handle_request'].includes(top), 'diff table sorted by |total change|: ' + top);
  log('diff (fixtures): grown red, shrunk blue, vanished still drawn, tooltip and table ok');
}

async function checkNotAvailable(page, have) {
  await page.click('#tabs button[data-view="profile"]');
  const paths = { cpu: '/debug/pprof/profile', block: '/debug/pprof/block', allocs: '/debug/pprof/allocs', heap: '/debug/pprof/heap', threads: '/debug/pprof/threads' };
  const missing = Object.keys(paths).find((k) => !have.has(paths[k]));
  /* Every kind served: a 404 is staged for one, as a build without it would answer. */
  const kind = missing || 'allocs';
  const pat = '**' + paths[kind] + '?*';
  if (!missing) await page.route(pat, (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'unknown path\n' }));
  await page.selectOption('#kind', kind);
  await page.click('#capture');
  await page.waitForFunction(() => /not available in this build/.test(document.getElementById('status').textContent));
  if (!missing) await page.unroute(pat);
  log(`kind "${kind}" ${missing ? 'not served' : 'answering 404 (staged)'}: the page says "not available in this build"`);
}

/* The Leaks view on fixtures saved by tests/leaks/test_leaks_sim.c: a
 * suspect card with its chart and stack; the heap between a retained
 * snapshot and now, where the leaking function grew. */
async function checkLeaksFixtures(page) {
  const routes = [
    [/\/debug\/pprof\/leaks\?format=json/, 'leaks.json'],
    [/\/debug\/pprof\/heap\?format=json$/, 'leaks_heap_now.json'],
    [/\/debug\/pprof\/heap\?base=\d+&format=json$/, 'leaks_heap_delta.json'],
  ];
  for (const [pat, file] of routes)
    await page.route(pat, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: fs.readFileSync(path.join(FIX, file)) }));
  await page.click('#tabs button[data-view="leaks"]');
  await page.waitForFunction(() => /^1 suspect over/.test(document.getElementById('leaks-status').textContent));
  const card = await page.textContent('#leaks-suspects .leak-card');
  assert.ok(card.includes('#1 heap: leak_request_buffer') && /\/h for/.test(card) && card.includes('tau='), 'suspect card: ' + card);
  assert.strictEqual(await page.locator('#leaks-suspects canvas').count(), 1);
  assert.ok((await page.textContent('#leaks-process')).includes('rss_bytes'));
  const nfrom = await page.locator('#leaks-from option').count();
  assert.ok(nfrom > 100, 'retained snapshots offered: ' + nfrom);
  await page.click('#leaks-diff');
  await page.waitForFunction(() => /^heap now vs/.test(document.getElementById('leaks-diff-status').textContent));
  const grew = await page.evaluate(() => {
    const walk = (n) => [n, ...n.children.flatMap(walk)];
    const n = walk(window.introspect.views.leaks.flame.tree.root).find((x) => x.name === 'leak_request_buffer');
    return n ? n.total - n.base : 0;
  });
  assert.ok(grew > 0, 'leak_request_buffer grew between the snapshot and now');
  await page.click('#leaks-suspects details summary');
  await page.screenshot({ path: path.join(BUILD, 'ui-leaks.png') });
  for (const [pat] of routes) await page.unroute(pat);
  log('leaks view draws fixture data: suspect, chart, stack, heap diff between retained snapshots');
}

async function checkSideViews(page, have) {
  /* Fixture data through the real fetch path (intercepted). */
  const fixtureRoutes = [
    ['**/debug/pprof/threads?format=json', 'threads.json'],
    ['**/debug/pprof/tasks?format=json', 'tasks.json'],
    ['**/debug/vars', 'vars.json'],
    ['**/debug/requests?format=json', 'requests.json'],
    ['**/debug/slo?format=json', 'slo.json'],
  ];
  for (const [pat, file] of fixtureRoutes)
    await page.route(pat, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: fs.readFileSync(path.join(FIX, file)) }));
  await page.click('#tabs button[data-view="threads"]');
  await page.waitForFunction(() => /7 threads in 4 distinct stacks/.test(document.getElementById('threads-status').textContent));
  const chips = await page.textContent('#threads-states');
  assert.ok(/6\s*sleeping/.test(chips) && /1\s*running/.test(chips), 'thread states: ' + chips);
  const first = await page.textContent('#threads-groups details:first-child summary');
  assert.ok(first.includes('4 \u00d7 pthread_cond_wait') && first.includes('worker-1 (100)'), 'largest group first: ' + first);
  assert.ok((await page.textContent('#threads-groups')).includes('no stack: the thread blocks the dump signal'));
  /* The threads profile shape (the goroutine fallback) parses too. */
  const tp = await page.evaluate((j) => {
    const t = window.introspect.parseThreads(j);
    return { total: t.total, states: [...t.states], first: t.groups[0].frames[0], names: t.groups[0].names };
  }, readFix('threads_profile.json'));
  assert.strictEqual(tp.total, 7);
  assert.deepStrictEqual(tp.states.sort(), [['running', 1], ['sleeping', 6]]);
  assert.strictEqual(tp.first, 'pthread_cond_wait');
  /* The Threads kind of the Profiles view draws the dump as a flame graph. */
  await page.click('#tabs button[data-view="profile"]');
  await page.selectOption('#kind', 'threads');
  await page.click('#capture');
  await page.waitForFunction(() => /^threads: 7 stacks/.test(document.getElementById('status').textContent));
  await page.waitForTimeout(50);
  const tf = await frames(page, 'profile');
  const cond = tf.find((f) => f.name === 'pthread_cond_wait');
  assert.ok(tf.some((f) => f.name === 'state: sleeping') && cond && cond.total === 4, 'threads flame graph');
  await page.click('#tabs button[data-view="tasks"]');
  await page.waitForFunction(() => /3 live tasks/.test(document.getElementById('tasks-status').textContent));
  const overdue = await page.textContent('#tasks-overdue');
  assert.ok(overdue.includes('GET /slow') && overdue.includes('10.5 s'), 'overdue: ' + overdue);
  assert.strictEqual(await page.textContent('#tasks-oldest tbody tr:first-child td:nth-child(3)'), 'leaky-job-3');
  assert.strictEqual(await page.textContent('#tasks-oldest tbody tr:first-child details summary'), 'route_leak demo_tasks.c:31');
  const kinds = await page.textContent('#tasks-summary');
  assert.ok(/1\s*request overdue/.test(kinds) && /1\s*job live/.test(kinds), 'task counts: ' + kinds);
  /* Requests: routes busiest first with percentiles and two sparklines each; SLOs with alerts. */
  await page.click('#tabs button[data-view="requests"]');
  await page.waitForFunction(() => /^2 routes/.test(document.getElementById('requests-status').textContent));
  assert.strictEqual(await page.textContent('#requests-routes tbody tr:first-child td:first-child'), '/api/items');
  const pay = await page.textContent('#requests-routes tbody tr:nth-child(2)');
  assert.ok(pay.includes('/api/pay') && pay.includes('POST') && pay.includes('50.00%') && pay.includes('83.0 ms'), 'pay row: ' + pay);
  assert.strictEqual(await page.evaluate(() => document.querySelectorAll('#requests-routes canvas.spark').length), 4);
  const slo = await page.textContent('#requests-slo');
  assert.ok(slo.includes('/api/pay:avail@99.9') && slo.includes('500.00\u00d7') && slo.includes('FAST BURN'), 'slo: ' + slo);
  await page.screenshot({ path: path.join(BUILD, 'ui-requests.png') });
  log('requests view: routes table with sparklines, SLO burn rates and alerts');
  await page.click('#tabs button[data-view="metrics"]');
  await page.waitForFunction(() => document.querySelectorAll('#metrics-pools canvas').length === 1);
  const pools = await page.textContent('#metrics-pools');
  assert.ok(pools.includes('pool db') && pools.includes('WaitDuration') && pools.includes('2.40 s'), 'pools: ' + pools);
  assert.ok(/Idle0(?!\s*B)/.test(pools), 'a connection count is not bytes: ' + pools);
  const charts = await page.textContent('#metrics-charts');
  assert.ok(/46(\.0)? MiB/.test(charts), 'rss formatted in MiB: ' + charts);
  await page.screenshot({ path: path.join(BUILD, 'ui-metrics.png') });
  await page.click('#tabs button[data-view="tasks"]');
  await page.waitForFunction(() => /3 live tasks/.test(document.getElementById('tasks-status').textContent));
  await page.click('#tasks-oldest details summary');
  await page.screenshot({ path: path.join(BUILD, 'ui-tasks.png') });
  await page.click('#tabs button[data-view="threads"]');
  await page.waitForFunction(() => /7 threads/.test(document.getElementById('threads-status').textContent));
  await page.click('#threads-groups details:first-child summary');
  await page.screenshot({ path: path.join(BUILD, 'ui-threads.png') });
  await page.click('#tabs button[data-view="diff"]');
  await page.screenshot({ path: path.join(BUILD, 'ui-diff.png') });
  await page.click('#tabs button[data-view="metrics"]');
  for (const [pat] of fixtureRoutes) await page.unroute(pat);
  log('threads, tasks, metrics views draw fixture data');
  await checkLeaksFixtures(page);

  /* The live endpoints: absent ones say so; /debug/vars is live. */
  await page.waitForFunction(() => /updated/.test(document.getElementById('metrics-status').textContent));
  await page.waitForFunction(() => document.getElementById('metrics-charts').textContent.includes('memstats.rss_bytes'));
  await page.click('#tabs button[data-view="threads"]');
  if (!have.has('/debug/pprof/threads')) {
    await page.waitForFunction(() => /not available in this build/.test(document.getElementById('threads-status').textContent));
  } else {
    await page.waitForFunction(() => /threads in \d+ distinct stacks/.test(document.getElementById('threads-status').textContent));
  }
  await page.click('#tabs button[data-view="tasks"]');
  if (!have.has('/debug/pprof/tasks'))
    await page.waitForFunction(() => /not available in this build/.test(document.getElementById('tasks-status').textContent));
  else
    await page.waitForFunction(() => /live tasks/.test(document.getElementById('tasks-status').textContent));
  log('live: /debug/vars charts refresh; threads ' + (have.has('/debug/pprof/threads') ? 'live' : 'absent (message shown)') +
      ', tasks ' + (have.has('/debug/pprof/tasks') ? 'live' : 'absent (message shown)'));
}

/* Producers that are served: the views draw their live data. */
async function checkLiveProducers(page, have) {
  if (have.has('/debug/pprof/threads')) {
    await page.click('#tabs button[data-view="threads"]');
    await page.click('#threads-refresh');
    await page.waitForFunction(() => /^\d+ threads in \d+ distinct stacks/.test(document.getElementById('threads-status').textContent));
    const st = await page.textContent('#threads-status');
    assert.ok(Number(/^(\d+)/.exec(st)[1]) >= 2, 'live threads: ' + st);
    assert.ok((await page.$$('#threads-groups details')).length >= 1);
    log('live threads: ' + st);
  }
  if (have.has('/debug/pprof/tasks')) {
    await page.click('#tabs button[data-view="tasks"]');
    await page.click('#tasks-refresh');
    await page.waitForFunction(() => /^\d+ live tasks/.test(document.getElementById('tasks-status').textContent));
    log('live tasks: ' + await page.textContent('#tasks-status') + '; ' + (await page.textContent('#tasks-summary')).replace(/\s+/g, ' '));
  }
  const vars = await page.evaluate(async () => (await fetch('/debug/vars')).json());
  if (vars.pools && Object.keys(vars.pools).length) {
    const name = Object.keys(vars.pools)[0];
    await page.click('#tabs button[data-view="metrics"]');
    await page.waitForFunction((n) => document.getElementById('metrics-pools').textContent.includes('pool ' + n), name);
    assert.ok((await page.$$('#metrics-pools canvas')).length >= 1, 'a wait histogram per pool');
    log('live pools: ' + Object.keys(vars.pools).join(', ') + ' with wait histograms');
  }
  if (have.has('/debug/pprof/block')) {
    await page.click('#tabs button[data-view="profile"]');
    await page.selectOption('#kind', 'block');
    await page.click('#capture');
    await page.waitForFunction(() => /^block: \d+ stacks/.test(document.getElementById('status').textContent));
    const st = await page.textContent('#status');
    if (!/^block: 0 stacks/.test(st)) assert.ok((await frames(page, 'profile')).length > 1, 'block flame graph');
    assert.strictEqual(await page.getAttribute('#download', 'href'), '/debug/pprof/block');
    /* The download is the pprof protobuf of the same endpoint; the command is copyable. */
    const dl = await page.evaluate(async () => {
      const r = await fetch(document.getElementById('download').getAttribute('href'));
      const b = new Uint8Array(await r.arrayBuffer());
      return { type: r.headers.get('content-type'), gzip: b[0] === 0x1f && b[1] === 0x8b };
    });
    assert.ok(dl.gzip, 'download is gzipped profile.proto: ' + JSON.stringify(dl));
    await page.click('#copy-cmd');
    await page.waitForFunction(() => document.getElementById('copy-cmd').textContent === 'Copied');
    assert.strictEqual(await page.evaluate(() => navigator.clipboard.readText()), await page.textContent('#pprof-cmd'));
    log('live block profile: ' + st);
  }
}

async function checkLiveCpu(page, base) {
  await page.click('#tabs button[data-view="profile"]');
  await page.selectOption('#kind', 'cpu');
  /* Cancel first: a long capture stops when asked. */
  await page.fill('#seconds', '30');
  await page.click('#capture');
  await page.waitForSelector('#progress:not([hidden])');
  await page.waitForTimeout(600);
  await page.click('#cancel');
  await page.waitForFunction(() => /cancelled/.test(document.getElementById('status').textContent));
  assert.ok(await page.isHidden('#progress'));
  /* The profiler is exclusive: it is free again long before the 30 s would
   * have ended only if the server stopped when the browser went away. */
  const cancelledAt = Date.now();
  for (;;) {
    const r = await fetch(base + '/debug/pprof/profile?seconds=1&format=json');
    const body = await r.text();
    if (r.ok) break;
    assert.ok(Date.now() - cancelledAt < 15000, 'the cancelled capture still holds the profiler: ' + r.status + ' ' + body);
    await new Promise((res) => setTimeout(res, 200));
  }
  log(`cancel: the server let go of the profiler ${((Date.now() - cancelledAt) / 1000).toFixed(1)} s after the browser aborted (capture asked for 30 s)`);

  await page.fill('#seconds', '2');
  await page.click('#capture');
  await page.waitForSelector('#progress:not([hidden])');
  await page.waitForFunction(() => /stacks/.test(document.getElementById('status').textContent));
  await page.waitForTimeout(100);
  const fs0 = await frames(page, 'profile');
  const hot = fs0.filter((f) => f.name === HOT);
  assert.ok(hot.length > 0, 'the CPU flame graph shows ' + HOT + '; frames: ' + [...new Set(fs0.map((f) => f.name))].slice(0, 40).join(' '));
  const tip = await hoverFrame(page, 'profile', hot.sort((a, b) => b.w - a.w)[0]);
  assert.ok(tip.includes(HOT) && /total [\d.]+ (ms|s)/.test(tip), 'tooltip: ' + tip);
  assert.strictEqual(await page.getAttribute('#download', 'href'), '/debug/pprof/profile?seconds=2');
  assert.strictEqual(await page.textContent('#pprof-cmd'), 'go tool pprof -http=: ' + base + '/debug/pprof/profile?seconds=2');
  /* Split by a sample label (here thread: every thread's sample has one): the roots become
   * thread=NAME, plus "thread unset" for the profile's own pseudo-samples (e.g. timer expiries
   * not delivered by the window's end, seen under ASan's slowdown). */
  assert.ok(!(await page.isHidden('#profile-labels')), 'label controls shown for a labelled profile');
  await page.selectOption('#label-key', 'thread');
  await page.check('#label-split');
  await page.waitForTimeout(100);
  const split = await page.evaluate(() => window.introspect.views.profile.flame.tree.root.children.map((c) => c.name));
  assert.ok(split.some((n) => n.startsWith('thread=')) && split.every((n) => n.startsWith('thread=') || n === 'thread unset'),
    'split roots: ' + split.join(' '));
  await page.uncheck('#label-split');
  await page.selectOption('#label-key', '');
  await page.waitForTimeout(100);
  log('profile split by the thread label: ' + split.length + ' roots');

  await page.fill('#view-profile .fg-search', HOT);
  await page.waitForFunction(() => /matched [1-9]/.test(document.querySelector('#view-profile .fg-match').textContent) ||
    /matched 0\.[0-9]*[1-9]/.test(document.querySelector('#view-profile .fg-match').textContent));
  await page.waitForTimeout(50);
  assert.ok((await frames(page, 'profile')).some((f) => f.match && f.name === HOT), 'search highlights ' + HOT);

  const before = await frames(page, 'profile');
  const target = before.filter((f) => f.depth >= 1 && f.match).sort((a, b) => b.w - a.w)[0];
  const box = await canvasBox(page, 'profile');
  await clickFrame(page, 'profile', target);
  await page.waitForFunction((n) => window.introspect.views.profile.flame.zoom.name === n, target.name);
  await page.waitForTimeout(50);
  const after = await frames(page, 'profile');
  const z = after.find((f) => f.depth === target.depth && f.name === target.name);
  assert.ok(z.w > target.w || target.w > box.width - 2, 'zoom widens the clicked frame');
  assert.ok((await flameInfo(page, 'profile')).crumbs.length === target.depth + 1);
  await page.click('#view-profile .fg-reset');
  await page.fill('#view-profile .fg-search', HOT);
  log(`live CPU: 2 s capture shows ${HOT}, search highlights it, zoom and cancel work`);
}

async function checkLiveHeapDiff(page) {
  await page.click('#tabs button[data-view="diff"]');
  await page.selectOption('#diff-kind', 'heap');
  await page.click('#diff-baseline');
  await page.waitForFunction(() => /baseline: \d+ stacks/.test(document.getElementById('diff-status').textContent));
  await page.waitForTimeout(1500);
  await page.click('#diff-current');
  await page.waitForFunction(() => /now vs baseline/.test(document.getElementById('diff-status').textContent));
  assert.ok((await frames(page, 'diff')).length > 0, 'the live heap diff draws');
  log('live heap diff renders');
}

/* A token-protected server: the browser logs in through the UI's URL. */
async function checkTokenLogin(context) {
  const token = 'ui-T0ken.' + process.pid;
  const srv = await startServer(token);
  const base = 'http://127.0.0.1:' + srv.port;
  try {
    const page = await context.newPage();
    const refused = await page.goto(base + '/debug/pprof/ui/');
    assert.strictEqual(refused.status(), 401);
    const wrong = await page.goto(base + '/debug/pprof/ui/?token=nope');
    assert.strictEqual(wrong.status(), 401);
    await page.goto(base + '/debug/pprof/ui/?token=' + encodeURIComponent(token));
    assert.ok(!page.url().includes('token='), 'the token stays in the address bar: ' + page.url());
    assert.ok(page.url().startsWith(base + '/debug/pprof/ui/'), page.url());
    await page.waitForFunction(() => window.introspect && window.introspect.views);
    const status = await page.evaluate(async () => (await fetch('/debug/pprof/threads?debug=1')).status);
    assert.strictEqual(status, 200, 'the page\'s own requests carry the cookie');
    const cookies = await context.cookies(base);
    const c = cookies.find((x) => x.name === 'introspect_token');
    assert.ok(c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(cookies));
    await context.clearCookies();
    await page.close();
    log('token: 401 without it, /debug/pprof/ui/?token= logs the browser in (HttpOnly, SameSite=Strict cookie)');
  } finally {
    srv.child.stdin.end();
    srv.child.kill('SIGTERM');
  }
}

async function main() {
  assert.ok(BUILD, 'IX_BUILD_DIR');
  const srv = await startServer();
  const base = 'http://127.0.0.1:' + srv.port;
  const killer = setInterval(() => {
    if (Date.now() - lastStep.t < STALL_MS) return;
    console.error(`test_ui: FAIL: no progress for ${STALL_MS / 1000} s after: ${lastStep.what}`);
    srv.child.kill('SIGKILL');
    process.exit(1);
  }, 1000);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ix-ui-chromium-'));
  let context;
  try {
    log('server: ' + (srv.isDemo ? 'introspect-demo' : 'ui_server') + ' on ' + base);
    await checkServing(base);
    const have = await served(base);
    log('served: ' + [...have].filter((p) => p.startsWith('/debug/pprof/') && p !== '/debug/pprof/ui/').join(' '));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
        '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    context.setDefaultTimeout(0); /* the watchdog above bounds each step */
    const page = context.pages()[0] || await context.newPage();
    /* A wait met, a navigation or a script run is progress. */
    for (const fn of ['waitForFunction', 'waitForSelector', 'goto', 'click', 'evaluate']) {
      const orig = page[fn].bind(page);
      page[fn] = async (...a) => { const r = await orig(...a); progress(fn + ' done'); return r; };
    }
    const problems = [];
    page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    page.on('console', (m) => {
      /* A 404 from a producer that is not built is expected, and shown in the page;
       * a 409 or 429 (a heavy endpoint busy) is asked again after Retry-After
       * (web/api.js; tests/ui/model.test.mjs): the browser logs the first answer. */
      if (m.type() !== 'error' || /status of 404/.test(m.text())) return;
      if (/status of 4(09|29)/.test(m.text())) log('busy answer, retried by the page: ' + m.text());
      else problems.push('console: ' + m.text());
    });
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push('off-origin request: ' + r.url()); });
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    });
    await page.goto(base + '/debug/pprof/ui');
    assert.strictEqual(page.url(), base + '/debug/pprof/ui/#profile');
    await page.waitForFunction(() => window.introspect && window.introspect.views);

    await checkSynthetic(page);
    await checkIdleToggle(page);
    await checkDiffFixtures(page);
    await checkNotAvailable(page, have);
    await checkSideViews(page, have);
    await checkLiveProducers(page, have);

    /* A producer in the route table must answer: no silent skip once it has landed. */
    const routes = fs.readFileSync(path.join(SRC, 'src', 'endpoints', 'endpoints.c'), 'utf8');
    for (const p of ['/debug/pprof/profile', '/debug/pprof/heap'])
      if (routes.includes('"' + p + '"')) assert.ok(have.has(p), p + ' is routed but the server does not serve it');
    assert.ok(srv.isDemo || !routes.includes('"/debug/pprof/profile"'), 'the live CPU test needs the demo (examples/)');
    const live = srv.isDemo && have.has('/debug/pprof/profile');
    if (live) await checkLiveCpu(page, base);
    else {
      log('SKIPPED live CPU capture: /debug/pprof/profile is not in this build (the synthetic profile stands in)');
      await page.click('#tabs button[data-view="profile"]');
      await setFile(page, '#open-file', 'synthetic.json', syntheticProfile(10000));
    }
    if (have.has('/debug/pprof/heap')) await checkLiveHeapDiff(page);
    else log('SKIPPED live heap diff: /debug/pprof/heap is not in this build (diff tested with fixtures)');

    /* The README's picture: the profile with a tooltip on the hot function. */
    await page.click('#tabs button[data-view="profile"]');
    await page.fill('#view-profile .fg-search', '');
    await page.waitForTimeout(100);
    const hotName = live ? HOT : 'synthetic_hot';
    const hotF = (await frames(page, 'profile')).filter((f) => f.name === hotName).sort((a, b) => b.w - a.w)[0];
    await page.evaluate(() => window.scrollTo(0, 0));
    if (hotF) await hoverFrame(page, 'profile', hotF);
    await page.waitForTimeout(200);
    const shot = path.join(BUILD, 'ui.png');
    await page.screenshot({ path: shot });
    if (process.env.IX_UI_UPDATE_SCREENSHOT === '1') fs.copyFileSync(shot, path.join(SRC, 'docs', 'ui.png'));
    log('screenshot: ' + shot);

    const csp = await page.evaluate(() => window.__csp);
    assert.deepStrictEqual(csp, [], 'CSP violations');
    assert.deepStrictEqual(problems, [], 'page errors');
    log('no console errors, no CSP violations, no off-origin requests');
    await checkTokenLogin(context);
  } finally {
    clearInterval(killer);
    if (context) await context.close();
    srv.child.stdin.end();
    srv.child.kill('SIGTERM');
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  log('PASS');
}

main().catch((e) => { console.error('test_ui: FAIL:', e && e.stack || e); process.exit(1); });
