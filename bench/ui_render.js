/* Flame-graph rendering cost in headless Chromium, for synthetic profiles of
 * 1k, 10k and 50k distinct stacks: load (JSON parse + tree merge + top
 * table), a full redraw, a regex search over the tree, and a zoom.
 * Medians of several runs. Usage (from the build directory):
 *   NODE_PATH=ui-node/node_modules node ../bench/ui_render.js
 * Needs a build (tests/ui_server) and `npm ci` done by tests/ui/run.sh. */
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { syntheticProfile } = require('../tests/ui/synthetic.js');

const BUILD = process.env.IX_BUILD_DIR || process.cwd();
const RUNS = Number(process.env.RUNS || 5);
const median = (a) => { const s = a.slice().sort((x, y) => x - y); return s[s.length >> 1]; };

async function main() {
  const srv = spawn('timeout', ['-s', 'KILL', '600', path.join(BUILD, 'tests', 'ui_server')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((res) => srv.stdout.on('data', (d) => { const m = /port (\d+)/.exec(String(d)); if (m) res(m[1]); }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ix-ui-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto('http://127.0.0.1:' + port + '/debug/pprof/ui/');
  await page.waitForFunction(() => window.introspect);
  console.log('| stacks | tree nodes | JSON size | load: parse+merge+table (ms) | full redraw (ms) | frames drawn | regex search (ms) | zoom + redraw (ms) |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of [1000, 10000, 50000]) {
    const text = JSON.stringify(syntheticProfile(n));
    const rows = [];
    for (let r = 0; r <= RUNS; r++) { /* run 0 warms the JIT up and is dropped */
      rows.push(await page.evaluate((t) => {
        const I = window.introspect, f = I.views.profile.flame;
        let t0 = performance.now();
        f.show(I.parseProfile(JSON.parse(t)));
        const load = performance.now() - t0;
        const draws = [];
        for (let i = 0; i < 9; i++) { f.draw(); draws.push(f.lastDrawMs); }
        draws.sort((a, b) => a - b);
        const drawn = f.drawnCount;
        t0 = performance.now();
        f.setSearch('fn_1[0-9]_');
        f.draw();
        const search = performance.now() - t0;
        f.setSearch('');
        const z = f.tree.root.children[0].children.slice().sort((a, b) => b.span - a.span)[0];
        t0 = performance.now();
        f.setZoom(z);
        f.draw();
        const zoom = performance.now() - t0;
        f.setZoom(f.tree.root);
        return { nodes: f.tree.nodes, load, draw: draws[4], drawn, search, zoom };
      }, text));
      if (r === 0) rows.pop();
    }
    const m = (k) => median(rows.map((x) => x[k]));
    console.log(`| ${n} | ${rows[0].nodes} | ${(text.length / 1048576).toFixed(1)} MiB | ${m('load').toFixed(0)} | ${m('draw').toFixed(1)} | ${m('drawn')} | ${m('search').toFixed(0)} | ${m('zoom').toFixed(1)} |`);
  }
  await ctx.close();
  srv.stdin.end();
  srv.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });
