/* The web UI's "whole tree" in headless Chromium (Debian's /usr/bin/chromium,
 * playwright-core), against tests/tree/tree_server.c: a root and 2 forked
 * workers, 3 processes, each busy. Proves:
 *   - the header's process selector lists the whole tree and each process;
 *   - with "whole tree" chosen, the CPU profile, heap and threads views
 *     draw the tree's merged profile (the root's merged pprof, read in the
 *     page), split by pid at first: every process's pid is a root of the
 *     split (the heap's: every worker, which allocate; the root may not);
 *   - the pid filter keeps one process; choosing one process fetches that
 *     process alone (?pid=N: no split, its own pid in the page's requests);
 *   - no console errors or CSP violations. Run by run.sh tree.test.js. */
'use strict';
const { chromium } = require('playwright-core');
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BUILD = process.env.IX_BUILD_DIR;
const log = (...a) => console.log('test_ui_tree:', ...a);

function startTree() {
  /* timeout(1) guarantees the tree dies even if this script is killed (the
   * workers die with the root: PR_SET_PDEATHSIG). */
  const child = spawn('timeout', ['-s', 'KILL', '200', path.join(BUILD, 'tests', 'tree_server'), '2', 'busy'],
    { env: { ...process.env, INTROSPECT_ADDR: '127.0.0.1:0' }, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('tree_server did not print its port: ' + out)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.on('exit', (c) => reject(new Error('tree_server exited with ' + c + ': ' + out)));
  });
}

async function processes(base, n) {
  for (let i = 0; i < 300; i++) {
    const j = await (await fetch(base + '/debug/pprof/processes')).json();
    if (j.processes.length >= n) return j.processes.map((p) => p.pid);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the tree never listed ' + n + ' processes');
}

const splitRoots = (page) => page.evaluate(() => window.introspect.views.profile.flame.tree.root.children.map((c) => c.name).sort());

async function capture(page, kind) {
  await page.selectOption('#kind', kind);
  if (kind === 'cpu') await page.fill('#seconds', '2');
  const before = await page.textContent('#status');
  await page.click('#capture');
  await page.waitForFunction((b) => {
    const s = document.getElementById('status').textContent;
    return s !== b && !/capturing|fetching/.test(s);
  }, before, { timeout: 60000 });
  const status = await page.textContent('#status');
  assert.ok(!/HTTP|error|not a JSON/i.test(status), kind + ': ' + status);
  return status;
}

async function main() {
  assert.ok(BUILD, 'IX_BUILD_DIR');
  if (process.env.IX_SANITIZE) { log('skipped: process trees are not run under sanitizers'); process.exit(77); }
  const srv = await startTree();
  const base = 'http://127.0.0.1:' + srv.port;
  const killer = setTimeout(() => { console.error('test_ui_tree: watchdog'); srv.child.kill('SIGKILL'); process.exit(1); }, 180000);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ix-ui-tree-chromium-'));
  let context;
  try {
    const pids = await processes(base, 3);
    const [root, ...workers] = pids;
    log('tree: root ' + root + ', workers ' + workers.join(' '));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
        '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] || await context.newPage();
    const problems = [], urls = [];
    page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    /* A 404 (favicon.ico) is not a page error; any other error is. */
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push('console: ' + m.text()); });
    page.on('request', (r) => urls.push(r.url()));
    page.on('response', (r) => { if (r.status() === 404 && !r.url().endsWith('/favicon.ico')) problems.push('404: ' + r.url()); });
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    });
    await page.goto(base + '/debug/pprof/ui/');
    await page.waitForFunction(() => !document.getElementById('process-box').hidden, null, { timeout: 20000 });
    const options = await page.$$eval('#process option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.strictEqual(options[0][0], '', 'whole tree first: ' + JSON.stringify(options));
    assert.ok(/whole tree \(3 processes/.test(options[0][1]), options[0][1]);
    for (const p of pids) assert.ok(options.some(([v]) => v === String(p)), p + ' not in the selector');
    log('selector: ' + options.map((o) => o[1]).join(' | '));

    /* CPU: every process burns some (tree_server_work: the workers, and a thread of the root). */
    let status = await capture(page, 'cpu');
    let roots = await splitRoots(page);
    log('cpu: ' + status + '; split: ' + roots.join(' '));
    for (const p of pids) assert.ok(roots.includes('pid=' + p), 'cpu split lacks pid=' + p + ': ' + roots.join(' '));
    assert.strictEqual(await page.inputValue('#label-key'), 'pid');
    assert.ok(await page.isChecked('#label-split'));
    assert.ok(/whole tree: 3 processes/.test(status), status);
    const cpuReq = urls.filter((u) => u.includes('/debug/pprof/profile')).pop();
    assert.ok(!/format=json|pid=/.test(cpuReq), 'the merged profile is the root\'s pprof: ' + cpuReq);
    const hot = await page.evaluate(() => {
      const out = [];
      const walk = (n) => { out.push(n.name); n.children.forEach(walk); };
      walk(window.introspect.views.profile.flame.tree.root);
      return out;
    });
    assert.ok(hot.includes('tree_server_work'), 'the workers\' function is in the merged flame graph');
    /* Filter: one worker alone. */
    await page.selectOption('#label-only', String(workers[0]));
    roots = await splitRoots(page);
    assert.deepStrictEqual(roots, ['pid=' + workers[0]]);
    log('cpu: the filter keeps pid ' + workers[0] + ' alone');

    /* Heap: the workers allocate (sampled: each one's 4 KiB malloc loop). */
    status = await capture(page, 'heap');
    await page.selectOption('#view-profile .fg-type', { label: 'alloc_space (bytes)' });
    roots = await splitRoots(page);
    log('heap: ' + status + '; split: ' + roots.join(' '));
    const heapKeys = await page.evaluate(() => (window.introspect.views.profile.keys.find((k) => k.key === 'pid') || { values: [] }).values);
    for (const p of workers) {
      assert.ok(heapKeys.includes(String(p)), 'heap: no sample of worker ' + p + ': ' + heapKeys);
      assert.ok(roots.includes('pid=' + p), 'heap split (alloc_space) lacks pid=' + p + ': ' + roots.join(' '));
    }

    /* Threads: every process has threads. */
    status = await capture(page, 'threads');
    roots = await splitRoots(page);
    log('threads: ' + status + '; split: ' + roots.join(' '));
    for (const p of pids) assert.ok(roots.includes('pid=' + p), 'threads split lacks pid=' + p + ': ' + roots.join(' '));

    /* One process: ?pid=N, that process alone, no split. */
    await page.selectOption('#process', String(workers[1]));
    status = await capture(page, 'threads');
    const thrReq = urls.filter((u) => u.includes('/debug/pprof/threads')).pop();
    assert.ok(thrReq.includes('pid=' + workers[1]) && thrReq.includes('format=json'), thrReq);
    roots = await splitRoots(page);
    assert.ok(!roots.some((r) => r.startsWith('pid=')), 'one process is not split: ' + roots.join(' '));
    log('one process (' + workers[1] + '): ' + status);

    assert.deepStrictEqual(await page.evaluate(() => window.__csp), [], 'CSP violations');
    assert.deepStrictEqual(problems, [], 'page errors');
    await page.screenshot({ path: path.join(BUILD, 'ui_tree.png') });
  } finally {
    clearTimeout(killer);
    if (context) await context.close();
    srv.child.kill('SIGTERM');
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  log('PASS');
}

main().catch((e) => { console.error('test_ui_tree: FAIL:', e && e.stack || e); process.exit(1); });
