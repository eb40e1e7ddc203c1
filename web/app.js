/* introspect web UI.
 *
 * Everything drawn here comes from the server's own endpoints: profiles as the
 * JSON profile model (?format=json, docs/profile-json.md), /debug/vars for
 * metrics, and the threads and tasks JSON. No framework, no network beyond
 * this origin (the Content-Security-Policy allows only 'self').
 *
 * Layout of this file:
 *   1. formatting of values in their units
 *   2. fetching (404 -> "not available in this build"; cancellable)
 *   3. the profile model: parse JSON, merge stacks into a call tree
 *   4. FlameView: canvas flame graph + top table (used by Profiles and Diff)
 *   5. the views: Profiles, Diff, Threads, Tasks, Metrics
 */
'use strict';

/* ------------------------------------------------------------------ 1. units */

function sig3(x) {
  const a = Math.abs(x);
  if (Number.isInteger(x)) return String(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function fmtDuration(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return sig3(ns) + ' ns';
  if (a < 1e6) return sig3(ns / 1e3) + ' \u00b5s';
  if (a < 1e9) return sig3(ns / 1e6) + ' ms';
  if (a < 60e9) return sig3(ns / 1e9) + ' s';
  return sig3(ns / 60e9) + ' min';
}

function fmtBytes(b) {
  const a = Math.abs(b);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = b;
  while (i < units.length - 1 && Math.abs(v) >= 1024) { v /= 1024; i++; }
  return (i === 0 ? String(Math.round(v)) : sig3(v)) + ' ' + units[i];
}

function fmtCount(n) {
  const a = Math.abs(n);
  if (a < 1e4) return String(Math.round(n * 100) / 100);
  if (a < 1e6) return sig3(n / 1e3) + 'k';
  if (a < 1e9) return sig3(n / 1e6) + 'M';
  return sig3(n / 1e9) + 'G';
}

/* A value in a profile unit ("nanoseconds", "bytes", "count", ...). */
function fmtValue(v, unit) {
  switch (unit) {
    case 'nanoseconds': return fmtDuration(v);
    case 'microseconds': return fmtDuration(v * 1e3);
    case 'milliseconds': return fmtDuration(v * 1e6);
    case 'seconds': return fmtDuration(v * 1e9);
    case 'bytes': return fmtBytes(v);
    default: return fmtCount(v);
  }
}

function fmtSigned(v, unit) { return (v > 0 ? '+' : v < 0 ? '\u2212' : '\u00b1') + fmtValue(Math.abs(v), unit); }

function pct(part, whole) { return whole ? (100 * part / whole).toFixed(2) + '%' : '\u2013'; }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === 'class') e.className = attrs[k];
    else if (k === 'text') e.textContent = attrs[k];
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function setStatus(node, text, isError) {
  node.textContent = text || '';
  node.classList.toggle('error', !!isError);
}

/* ---------------------------------------------------------------- 2. fetch */

class NotAvailable extends Error {}

/* GET a URL; JSON or text. A 404 means the producer is not in this build. */
async function fetchData(url, { signal, json = true } = {}) {
  const r = await fetch(url, { signal, cache: 'no-store' });
  if (r.status === 404) throw new NotAvailable('not available in this build (' + url.split('?')[0] + ' answered 404)');
  if (!r.ok) {
    const why = (await r.text()).trim().split('\n')[0];
    throw new Error(url.split('?')[0] + ': HTTP ' + r.status + (why ? ' \u2013 ' + why : ''));
  }
  return json ? r.json() : r.text();
}

function errorText(e) {
  if (e && e.name === 'AbortError') return 'cancelled';
  return e && e.message ? e.message : String(e);
}

/* ---------------------------------------------------------- 3. profile model */

/* The JSON profile model -> {sampleTypes, defaultIndex, names, stacks}, where
 * each stack lists frames root first as indices into names (the JSON is leaf
 * first, and each location's inlined lines are callee first). Interning the
 * names once makes merging 10,000+ stacks cheap. */
function parseProfile(json) {
  if (!json || !Array.isArray(json.samples) || !Array.isArray(json.sample_types))
    throw new Error('not a JSON profile (no samples or sample_types)');
  const fns = json.functions || [];
  const maps = json.mappings || [];
  const locs = json.locations || [];
  const names = [];
  const ids = new Map();
  const intern = (s) => {
    let id = ids.get(s);
    if (id === undefined) { id = names.length; names.push(s); ids.set(s, id); }
    return id;
  };
  const locFrames = locs.map((loc) => {
    const lines = loc.lines || [];
    if (!lines.length) {
      const m = maps[loc.mapping];
      const file = m && m.file ? m.file.split('/').pop() + ' ' : '';
      return [intern(file + (loc.address || '?'))];
    }
    const out = [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const f = fns[lines[i].function];
      out.push(intern(f && f.name ? f.name : loc.address || '?'));
    }
    return out;
  });
  const unknown = [intern('?')];
  const stacks = json.samples.map((s) => {
    const frames = [];
    const ls = s.locations || [];
    for (let i = ls.length - 1; i >= 0; i--) for (const id of locFrames[ls[i]] || unknown) frames.push(id);
    return { frames, values: s.values || [], labels: s.labels || {} };
  });
  const types = json.sample_types.map((t) => ({ type: t.type || '?', unit: t.unit || 'count' }));
  let def = Number.isInteger(json.default_sample_type) ? json.default_sample_type : types.length - 1;
  if (def < 0 || def >= types.length) def = types.length - 1;
  return {
    name: json.name || 'profile', sampleTypes: types, defaultIndex: def, names, stacks,
    durationNanos: json.duration_nanos || 0, timeNanos: json.time_nanos || 0,
    comments: json.comments || [], period: json.period || 0, periodType: json.period_type || null,
  };
}

/* Names of a stack's frames, root first. */
function stackNames(profile, s) { return s.frames.map((id) => profile.names[id]); }

/* Merge stacks into one call tree. With a baseline, each node also carries the
 * baseline's value ("base") so the diff view colours growth and shrinkage.
 * span = max(total, base, sum of children's spans): widths stay nested, and
 * frames that vanished since the baseline still show (blue).
 * A 10,000-stack profile makes ~200,000 nodes and most have a few children,
 * so children are found by a short scan of interned name ids, with a Map
 * only for nodes that fan out widely. */
function buildTree(profile, index, baseline, baseIndex) {
  const nameIds = new Map();
  const nameList = [];
  const root = newNode('all', null, 0, -1);
  const nodes = [root];
  const add = (p, vi, isBase) => {
    const local = p.names.map((n) => {
      let id = nameIds.get(n);
      if (id === undefined) { id = nameList.length; nameList.push(n); nameIds.set(n, id); }
      return id;
    });
    for (const s of p.stacks) {
      const v = Number(s.values[vi]) || 0;
      if (!v) continue;
      let n = root;
      if (isBase) n.base += v; else n.total += v;
      for (const f of s.frames) {
        const nid = local[f];
        let c;
        if (n.index) c = n.index.get(nid);
        else for (const k of n.children) if (k.nid === nid) { c = k; break; }
        if (c === undefined) {
          c = newNode(nameList[nid], n, n.depth + 1, nid);
          nodes.push(c);
          n.children.push(c);
          if (n.index) n.index.set(nid, c);
          else if (n.children.length > 8) n.index = new Map(n.children.map((k) => [k.nid, k]));
        }
        if (isBase) c.base += v; else c.total += v;
        n = c;
      }
      if (isBase) n.baseSelf += v; else n.self += v;
    }
  };
  add(profile, index, false);
  if (baseline) add(baseline, baseIndex, true);
  const tree = { root, maxDepth: 0, nodes: nodes.length, diff: !!baseline, maxAbsDelta: 0 };
  /* Children were created after their parents: a reverse pass sums spans bottom up. */
  const cmp = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.depth > tree.maxDepth) tree.maxDepth = n.depth;
    let sum = 0;
    for (const c of n.children) sum += c.span;
    if (n.children.length > 1) n.children.sort(cmp);
    n.span = Math.max(Math.abs(n.total), Math.abs(n.base), sum);
    n.index = null;
    const d = Math.abs(n.total - n.base);
    if (d > tree.maxAbsDelta) tree.maxAbsDelta = d;
  }
  return tree;
}

function newNode(name, parent, depth, nid) {
  return { nid, name, parent, depth, total: 0, self: 0, base: 0, baseSelf: 0, span: 0, children: [], index: null, match: false };
}

/* Per function: self and total, counting recursion once per stack. */
function topFunctions(root) {
  const byName = new Map();
  const onPath = new Map();
  const walk = (n) => {
    let e = byName.get(n.name);
    if (!e) { e = { name: n.name, self: 0, total: 0, baseSelf: 0, base: 0 }; byName.set(n.name, e); }
    e.self += n.self; e.baseSelf += n.baseSelf;
    const seen = onPath.get(n.name) || 0;
    if (!seen) { e.total += n.total; e.base += n.base; }
    onPath.set(n.name, seen + 1);
    for (const c of n.children) walk(c);
    onPath.set(n.name, seen);
  };
  for (const c of root.children) walk(c);
  return Array.from(byName.values());
}

/* ------------------------------------------------------------- 4. FlameView */

const ROW = 18;
const MIN_PX = 0.5; /* frames narrower than this are not drawn (nor their children) */

function hashName(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}

/* A flame graph with its tools (sample type, search, orientation, breadcrumb)
 * and a sortable top table. show(profile) or show(profile, baseline). */
class FlameView {
  constructor(host) {
    this.host = host;
    this.profile = null;
    this.baseline = null;
    this.tree = null;
    this.zoom = null;
    this.hover = null;
    this.regex = null;
    this.matched = 0;
    this.icicle = false;
    this.sortKey = 'self';
    this.drawn = []; /* rows[depth] = [{x, w, node}] sorted by x, for hit tests */
    this.pending = false;
    this.lastDrawMs = 0;
    this.colors = new Map();
    this.build();
  }

  build() {
    this.typeSel = el('select', { class: 'fg-type', onchange: () => { this.rebuild(); if (this.onTypeChange) this.onTypeChange(); } });
    this.search = el('input', { class: 'fg-search', type: 'search', placeholder: 'search (regex)',
      oninput: () => this.setSearch(this.search.value) });
    this.matchInfo = el('span', { class: 'fg-match muted' });
    this.orient = el('button', { type: 'button', class: 'fg-orient', text: 'Icicle',
      onclick: () => { this.icicle = !this.icicle; this.orient.textContent = this.icicle ? 'Flame' : 'Icicle'; this.scrollToRoot = true; this.requestDraw(); } });
    this.reset = el('button', { type: 'button', class: 'fg-reset', text: 'Reset zoom',
      onclick: () => this.setZoom(this.tree && this.tree.root) });
    this.crumbs = el('div', { class: 'fg-crumbs' });
    this.canvas = el('canvas', { class: 'fg-canvas' });
    /* Hover outlines go on an overlay, so moving the mouse never repaints the graph. */
    this.overlay = el('canvas', { class: 'fg-overlay' });
    this.canvasBox = el('div', { class: 'fg-canvas-box' }, this.canvas, this.overlay);
    this.table = el('table', { class: 'fg-table' });
    this.tableBox = el('div', { class: 'fg-table-box' }, this.table);
    this.tooltip = document.getElementById('tooltip');
    const left = el('div', { class: 'fg-left' },
      el('div', { class: 'fg-tools' }, el('label', {}, 'Sample ', this.typeSel), this.search, this.matchInfo,
        this.orient, this.reset),
      this.crumbs, this.canvasBox);
    this.root = el('div', { class: 'fg', hidden: '' }, left, this.tableBox);
    this.host.append(this.root);

    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => { this.hover = null; this.tooltip.hidden = true; this.drawHover(); });
    this.canvas.addEventListener('click', (e) => { const n = this.hit(e); if (n) this.setZoom(n); });
    new ResizeObserver(() => this.requestDraw()).observe(this.canvasBox);
  }

  /* Draw a profile (and, for a diff, the baseline it is compared with). */
  show(profile, baseline) {
    const prev = this.profile && this.typeSel.value !== '' ? this.profile.sampleTypes[Number(this.typeSel.value)] : null;
    if (!!baseline !== !!this.baseline || !this.profile) this.sortKey = baseline ? 'dtotal' : 'self';
    this.profile = profile;
    this.baseline = baseline || null;
    this.typeSel.textContent = '';
    profile.sampleTypes.forEach((t, i) => this.typeSel.append(el('option', { value: String(i), text: t.type + ' (' + t.unit + ')' })));
    let idx = profile.defaultIndex;
    if (prev) {
      const same = profile.sampleTypes.findIndex((t) => t.type === prev.type && t.unit === prev.unit);
      if (same >= 0 && this.keepType) idx = same;
    }
    this.typeSel.value = String(idx);
    this.root.hidden = false;
    this.rebuild();
  }

  unit() { return this.profile.sampleTypes[Number(this.typeSel.value)].unit; }

  rebuild() {
    const i = Number(this.typeSel.value);
    let bi = -1;
    if (this.baseline) {
      const t = this.profile.sampleTypes[i];
      bi = this.baseline.sampleTypes.findIndex((b) => b.type === t.type && b.unit === t.unit);
      if (bi < 0) bi = Math.min(i, this.baseline.sampleTypes.length - 1);
    }
    const t0 = performance.now();
    this.tree = buildTree(this.profile, i, this.baseline, bi);
    this.buildMs = performance.now() - t0;
    this.top = topFunctions(this.tree.root);
    this.zoom = this.tree.root;
    this.hover = null;
    this.scrollToRoot = true;
    this.setSearch(this.search.value);
    this.renderTable();
    this.renderCrumbs();
  }

  setZoom(n) {
    if (!n) return;
    this.zoom = n;
    this.renderCrumbs();
    this.requestDraw();
  }

  renderCrumbs() {
    this.crumbs.textContent = '';
    const path = [];
    for (let n = this.zoom; n; n = n.parent) path.unshift(n);
    path.forEach((n, i) => {
      if (i) this.crumbs.append(el('span', { class: 'sep', text: ' \u203a ' }));
      this.crumbs.append(el('button', { type: 'button', text: n.name, title: n.name, onclick: () => this.setZoom(n) }));
    });
  }

  /* Mark nodes whose name matches; the share counts each matching subtree once. */
  setSearch(text) {
    this.regex = null;
    this.search.classList.remove('bad');
    if (text) {
      try { this.regex = new RegExp(text); } catch (e) { this.search.classList.add('bad'); }
    }
    let share = 0, baseShare = 0, count = 0;
    const re = this.regex;
    const memo = new Map(); /* one regex test per distinct name, not per node */
    const test = (name) => {
      let m = memo.get(name);
      if (m === undefined) { m = re.test(name); memo.set(name, m); }
      return m;
    };
    const walk = (n, under) => {
      n.match = !!re && test(n.name);
      if (n.match) count++;
      if (n.match && !under) { share += n.total; baseShare += n.base; }
      for (const c of n.children) walk(c, under || n.match);
    };
    if (this.tree) for (const c of this.tree.root.children) walk(c, false);
    this.matched = share;
    this.matchCount = count;
    if (!re || !this.tree) this.matchInfo.textContent = '';
    else {
      const root = this.tree.root;
      let s = 'matched ' + pct(share, root.total) + ' (' + fmtValue(share, this.unit()) + ') in ' + count + ' frames';
      if (this.tree.diff) s += ', ' + fmtSigned(share - baseShare, this.unit()) + ' vs baseline';
      this.matchInfo.textContent = s;
    }
    this.requestDraw();
  }

  renderTable() {
    const unit = this.unit();
    const diff = this.tree.diff;
    const cols = diff
      ? [['name', 'Function'], ['self', 'Self'], ['total', 'Total'], ['dself', 'Self \u0394'], ['dtotal', 'Total \u0394']]
      : [['name', 'Function'], ['self', 'Self'], ['selfp', 'Self %'], ['total', 'Total'], ['totalp', 'Total %']];
    if (!cols.some((c) => c[0] === this.sortKey)) this.sortKey = diff ? 'dtotal' : 'self';
    const key = {
      self: (e) => e.self, selfp: (e) => e.self, total: (e) => e.total, totalp: (e) => e.total,
      dself: (e) => Math.abs(e.self - e.baseSelf), dtotal: (e) => Math.abs(e.total - e.base),
      name: null,
    }[this.sortKey];
    const rows = this.top.slice();
    if (key) rows.sort((a, b) => key(b) - key(a) || (a.name < b.name ? -1 : 1));
    else rows.sort((a, b) => (a.name < b.name ? -1 : 1));
    const all = this.tree.root.total;
    const thead = el('thead', {}, el('tr', {}, ...cols.map(([k, label]) => el('th', {
      class: (k === 'name' ? 'name ' : '') + (k === this.sortKey ? 'sorted' : ''), 'data-key': k, text: label,
      onclick: () => { this.sortKey = k; this.renderTable(); },
    }))));
    const tbody = el('tbody');
    for (const e of rows.slice(0, 300)) {
      const cell = {
        name: e.name, self: fmtValue(e.self, unit), selfp: pct(e.self, all), total: fmtValue(e.total, unit),
        totalp: pct(e.total, all), dself: fmtSigned(e.self - e.baseSelf, unit), dtotal: fmtSigned(e.total - e.base, unit),
      };
      const sign = { dself: e.self - e.baseSelf, dtotal: e.total - e.base };
      tbody.append(el('tr', { title: e.name, onclick: () => { this.search.value = '^' + e.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$'; this.setSearch(this.search.value); } },
        ...cols.map(([k]) => el('td', { class: k === 'name' ? 'name' : sign[k] > 0 ? 'pos' : sign[k] < 0 ? 'neg' : '', text: cell[k] }))));
    }
    this.table.textContent = '';
    this.table.append(thead, tbody);
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  colorOf(n) {
    if (this.tree.diff) {
      const d = n.total - n.base;
      if (!d || !this.tree.maxAbsDelta) return n.match ? '#e040e0' : '#c8c8c8';
      const t = Math.round(10 * Math.sqrt(Math.abs(d) / this.tree.maxAbsDelta)) / 10;
      const light = 92 - 45 * t;
      return n.match ? '#e040e0' : d > 0 ? 'hsl(6,78%,' + light + '%)' : 'hsl(212,65%,' + light + '%)';
    }
    if (n.match) return '#e040e0';
    const key = n.name + (this.regex ? '\u0001' : '');
    let c = this.colors.get(key);
    if (!c) {
      const h = hashName(n.name);
      const hue = 8 + (h % 42), sat = 70 + ((h >>> 8) % 20), light = 55 + ((h >>> 16) % 12);
      c = this.regex ? 'hsl(' + hue + ',15%,' + (light + 15) + '%)' : 'hsl(' + hue + ',' + sat + '%,' + light + '%)';
      this.colors.set(key, c);
    }
    return c;
  }

  /* Lay out and paint the frames under the zoomed node; its ancestors are
   * drawn full width. Children narrower than MIN_PX are skipped with their
   * whole subtree, so the cost follows what is visible, not the tree size. */
  draw() {
    if (!this.tree || this.root.hidden) return;
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const W = Math.max(100, this.canvasBox.clientWidth);
    const H = (this.tree.maxDepth + 1) * ROW;
    if (this.canvas.width !== Math.round(W * dpr) || this.canvas.height !== Math.round(H * dpr)) {
      this.canvas.width = Math.round(W * dpr);
      this.canvas.height = Math.round(H * dpr);
      this.canvas.style.width = W + 'px';
      this.canvas.style.height = H + 'px';
      this.overlay.width = this.canvas.width;
      this.overlay.height = this.canvas.height;
      this.overlay.style.width = W + 'px';
      this.overlay.style.height = H + 'px';
    }
    this.W = W; this.H = H;
    if (this.scrollToRoot && this.canvasBox.clientHeight) {
      /* The root row is where reading starts: bottom for a flame, top for an icicle. */
      this.canvasBox.scrollTop = this.icicle ? 0 : H;
      this.scrollToRoot = false;
    }
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '12px ui-monospace, monospace';
    ctx.textBaseline = 'middle';
    const charW = this.charW || (this.charW = ctx.measureText('m').width || 7);
    const rows = [];
    const yOf = (d) => (this.icicle ? d * ROW : H - (d + 1) * ROW);
    const root = this.tree.root;
    const rootLabel = 'all: ' + fmtValue(root.total, this.unit()) +
      (this.tree.diff ? ' (baseline ' + fmtValue(root.base, this.unit()) + ')' : '');
    const paint = (n, x, w, dim) => {
      const y = yOf(n.depth);
      ctx.fillStyle = this.colorOf(n);
      ctx.globalAlpha = dim ? 0.55 : 1;
      ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW - 1);
      ctx.globalAlpha = 1;
      if (w > charW * 3 + 6) {
        const max = Math.floor((w - 6) / charW);
        const name = n.parent ? n.name : rootLabel;
        const label = name.length > max ? name.slice(0, max - 1) + '\u2026' : name;
        ctx.fillStyle = '#111';
        ctx.fillText(label, x + 3, y + ROW / 2);
      }
      (rows[n.depth] || (rows[n.depth] = [])).push({ x, w, node: n });
    };
    for (let a = this.zoom.parent; a; a = a.parent) paint(a, 0, W, true);
    const z = this.zoom;
    const scale = z.span ? W / z.span : 0;
    const stack = [z, 0];
    let count = 0;
    while (stack.length) {
      const x = stack.pop(), n = stack.pop();
      const w = n.span * scale;
      paint(n, x, w, false);
      count++;
      let cx = x;
      for (const c of n.children) {
        const cw = c.span * scale;
        if (cw >= MIN_PX) stack.push(c, cx);
        cx += cw;
      }
    }
    for (const r of rows) if (r) r.sort((p, q) => p.x - q.x);
    this.drawn = rows;
    this.drawnCount = count;
    this.lastDrawMs = performance.now() - t0;
    this.drawHover();
  }

  /* Outline the hovered frame on the overlay (if it is drawn at all). */
  drawHover() {
    const dpr = window.devicePixelRatio || 1;
    const ctx = this.overlay.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.W || 0, this.H || 0);
    const n = this.hover;
    const f = n && (this.drawn[n.depth] || []).find((r) => r.node === n);
    if (!f) return;
    const y = this.icicle ? n.depth * ROW : this.H - (n.depth + 1) * ROW;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(f.x + 0.75, y + 0.75, Math.max(0, f.w - 2.5), ROW - 2.5);
  }

  hit(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const d = this.icicle ? Math.floor(y / ROW) : Math.floor((this.H - y) / ROW);
    const row = this.drawn[d];
    if (!row) return null;
    let lo = 0, hi = row.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, f = row[mid];
      if (x < f.x) hi = mid - 1;
      else if (x >= f.x + Math.max(f.w, 1)) lo = mid + 1;
      else return f.node;
    }
    return null;
  }

  onMove(e) {
    const n = this.hit(e);
    if (n !== this.hover) { this.hover = n; this.drawHover(); }
    const tip = this.tooltip;
    if (!n) { tip.hidden = true; return; }
    const unit = this.unit(), all = this.tree.root.total;
    tip.textContent = '';
    tip.append(el('b', { text: n.name }), el('br'));
    if (this.tree.diff) {
      tip.append('now: total ' + fmtValue(n.total, unit) + ', self ' + fmtValue(n.self, unit), el('br'),
        'baseline: total ' + fmtValue(n.base, unit) + ', self ' + fmtValue(n.baseSelf, unit), el('br'),
        'change: total ' + fmtSigned(n.total - n.base, unit) + ', self ' + fmtSigned(n.self - n.baseSelf, unit));
    } else {
      tip.append('total ' + fmtValue(n.total, unit) + ' (' + pct(n.total, all) + ')', el('br'),
        'self ' + fmtValue(n.self, unit) + ' (' + pct(n.self, all) + ')');
      if (this.zoom !== this.tree.root) tip.append(el('br'), pct(n.total, this.zoom.total) + ' of ' + this.zoom.name);
    }
    tip.hidden = false;
    const pad = 14;
    let left = e.clientX + pad, top = e.clientY + pad;
    const tw = tip.offsetWidth, th = tip.offsetHeight;
    if (left + tw > window.innerWidth) left = Math.max(0, e.clientX - tw - pad);
    if (top + th > window.innerHeight) top = Math.max(0, e.clientY - th - pad);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  /* For tests and scripts: the frames as drawn (CSS px, relative to the canvas). */
  frames() {
    const out = [];
    for (const row of this.drawn) if (row) for (const f of row)
      out.push({ name: f.node.name, x: f.x, y: this.icicle ? f.node.depth * ROW : this.H - (f.node.depth + 1) * ROW,
        w: f.w, h: ROW, match: f.node.match, depth: f.node.depth, total: f.node.total, base: f.node.base });
    return out;
  }
}

/* ------------------------------------------------------------------ 5. views */

/* Profile kinds: each plugs in with one line. timed kinds take ?seconds=N. */
const KINDS = [
  { id: 'cpu', label: 'CPU', path: '/debug/pprof/profile', timed: true,
    desc: 'where CPU time went, all threads' },
  { id: 'heap', label: 'Heap', path: '/debug/pprof/heap',
    desc: 'sampled live and allocated memory: pick inuse/alloc \u00d7 space/objects as the sample' },
  { id: 'allocs', label: 'Allocs', path: '/debug/pprof/allocs', desc: 'all allocations since start' },
  { id: 'threads', label: 'Threads', path: '/debug/pprof/threads', alt: '/debug/pprof/goroutine',
    desc: 'stacks of every thread, grouped', parse: (j) => threadsAsProfile(j) },
  { id: 'block', label: 'Block', path: '/debug/pprof/block', desc: 'where the application waited on pools' },
];

const DIFF_KINDS = KINDS.filter((k) => k.id === 'heap' || k.id === 'allocs');

function kindUrl(kind, path, seconds, json) {
  const q = [];
  if (kind.timed) q.push('seconds=' + seconds);
  if (json) q.push('format=json');
  return path + (q.length ? '?' + q.join('&') : '');
}

/* Fetch a kind's JSON profile, trying its alias path on 404. */
async function fetchProfile(kind, seconds, signal) {
  try {
    return { json: await fetchData(kindUrl(kind, kind.path, seconds, true), { signal }), path: kind.path };
  } catch (e) {
    if (!(e instanceof NotAvailable) || !kind.alt) throw e;
    return { json: await fetchData(kindUrl(kind, kind.alt, seconds, true), { signal }), path: kind.alt };
  }
}

function readFileJSON(input) {
  return new Promise((resolve, reject) => {
    const f = input.files && input.files[0];
    if (!f) { reject(new Error('no file')); return; }
    const r = new FileReader();
    r.onload = () => { try { resolve(JSON.parse(r.result)); } catch (e) { reject(new Error(f.name + ': ' + e.message)); } };
    r.onerror = () => reject(r.error);
    r.readAsText(f);
  });
}

/* --- Profiles view: capture with progress and cancel, then draw. */
class ProfileView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { kindSel: $('kind'), seconds: $('seconds'), secondsBox: $('seconds-box'), captureBtn: $('capture'),
      cancelBtn: $('cancel'), progress: $('progress'), bar: $('progress-bar'), barText: $('progress-text'),
      status: $('status'), actions: $('profile-actions'), download: $('download'), cmd: $('pprof-cmd'),
      copyBtn: $('copy-cmd'), meta: $('profile-meta'), desc: $('kind-desc'), file: $('open-file') });
    for (const k of KINDS) this.kindSel.append(el('option', { value: k.id, text: k.label }));
    this.flame = new FlameView($('profile-flame'));
    this.flame.keepType = true;
    this.flame.onTypeChange = () => this.updateCommand();
    this.kindSel.addEventListener('change', () => this.onKind());
    this.captureBtn.addEventListener('click', () => this.capture());
    this.cancelBtn.addEventListener('click', () => this.controller && this.controller.abort());
    this.copyBtn.addEventListener('click', () => copyText(this.cmd.textContent, this.copyBtn));
    this.file.addEventListener('change', () => this.openFile());
    this.onKind();
  }

  kind() { return KINDS.find((k) => k.id === this.kindSel.value); }

  onKind() {
    const k = this.kind();
    this.secondsBox.hidden = !k.timed;
    this.desc.textContent = k.desc;
  }

  async capture() {
    const kind = this.kind();
    const secs = Math.max(1, Math.min(3600, Math.round(Number(this.seconds.value) || 10)));
    this.controller = new AbortController();
    this.captureBtn.disabled = true;
    this.cancelBtn.disabled = false;
    setStatus(this.status, kind.timed ? 'capturing ' + secs + ' s of ' + kind.label + '\u2026' : 'fetching ' + kind.label + '\u2026');
    const stop = kind.timed ? this.startProgress(secs) : () => {};
    try {
      const { json, path } = await fetchProfile(kind, secs, this.controller.signal);
      stop(true);
      this.showProfile((kind.parse || parseProfile)(json), kind, path, secs);
    } catch (e) {
      stop(false);
      setStatus(this.status, kind.label + ': ' + errorText(e), !(e && e.name === 'AbortError'));
    } finally {
      this.captureBtn.disabled = false;
      this.cancelBtn.disabled = true;
      this.controller = null;
    }
  }

  /* A bar that fills over the capture's duration; the server answers at the end. */
  startProgress(secs) {
    const t0 = performance.now();
    this.progress.hidden = false;
    const tick = () => {
      const el = (performance.now() - t0) / 1000;
      const f = Math.min(1, el / secs);
      this.bar.style.width = (100 * f).toFixed(1) + '%';
      this.barText.textContent = f < 1 ? el.toFixed(1) + ' / ' + secs + ' s' : 'waiting for the server\u2026';
    };
    tick();
    const timer = setInterval(tick, 100);
    return () => { clearInterval(timer); this.progress.hidden = true; this.bar.style.width = '0'; };
  }

  showProfile(p, kind, path, secs) {
    const t0 = performance.now();
    this.flame.show(p);
    const n = p.stacks.length;
    setStatus(this.status, p.name + ': ' + n + ' stacks, ' + this.flame.tree.nodes + ' frames' +
      (p.durationNanos ? ', ' + fmtDuration(p.durationNanos) : '') + ' (built in ' + (performance.now() - t0).toFixed(0) + ' ms)' +
      (this.flame.tree.root.total ? '' : ' \u2014 no samples: nothing ran, or nothing was sampled'));
    this.meta.textContent = p.comments.join('\n');
    document.getElementById('profile-notes').hidden = !p.comments.length;
    this.source = kind ? { kind, url: kindUrl(kind, path, secs, false) } : null;
    this.actions.hidden = !kind;
    if (kind) {
      this.download.href = this.source.url;
      this.download.setAttribute('download', kind.id + '.pb.gz');
    }
    this.updateCommand();
  }

  /* The same profile from go tool pprof, on the sample type shown here. */
  updateCommand() {
    if (!this.source) return;
    const f = this.flame, t = f.profile.sampleTypes[Number(f.typeSel.value)];
    const idx = Number(f.typeSel.value) !== f.profile.defaultIndex ? '-sample_index=' + t.type + ' ' : '';
    this.cmd.textContent = 'go tool pprof -http=: ' + idx + location.origin + this.source.url;
  }

  async openFile() {
    try {
      this.showProfile(parseProfile(await readFileJSON(this.file)), null);
    } catch (e) {
      setStatus(this.status, errorText(e), true);
    }
    this.file.value = '';
  }
}

function copyText(text, button) {
  const done = (ok) => {
    const old = button.dataset.label || (button.dataset.label = button.textContent);
    button.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { button.textContent = old; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
  else done(false);
}

/* --- Diff view: baseline, later capture, red/blue flame graph. */
class DiffView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { kindSel: $('diff-kind'), baseBtn: $('diff-baseline'), curBtn: $('diff-current'),
      status: $('diff-status'), baseFile: $('diff-base-file'), curFile: $('diff-cur-file') });
    for (const k of DIFF_KINDS) this.kindSel.append(el('option', { value: k.id, text: k.label }));
    this.flame = new FlameView($('diff-flame'));
    this.flame.keepType = true;
    this.baseline = null;
    this.baseBtn.addEventListener('click', () => this.captureBaseline());
    this.curBtn.addEventListener('click', () => this.captureCurrent());
    this.baseFile.addEventListener('change', () => this.fromFile(this.baseFile, true));
    this.curFile.addEventListener('change', () => this.fromFile(this.curFile, false));
  }

  kind() { return DIFF_KINDS.find((k) => k.id === this.kindSel.value); }

  async grab() {
    const { json } = await fetchProfile(this.kind(), 0, undefined);
    return parseProfile(json);
  }

  setBaseline(p, when) {
    this.baseline = p;
    this.baseAt = when;
    this.curBtn.disabled = false;
    setStatus(this.status, 'baseline: ' + p.stacks.length + ' stacks at ' + when + '. Let the process run, then capture again.');
  }

  diff(p) {
    this.flame.show(p, this.baseline);
    const t = this.flame.tree, u = this.flame.unit();
    setStatus(this.status, 'now vs baseline of ' + this.baseAt + ': ' + fmtSigned(t.root.total - t.root.base, u) +
      ' (' + fmtValue(t.root.base, u) + ' \u2192 ' + fmtValue(t.root.total, u) + ')');
  }

  async captureBaseline() {
    try { this.setBaseline(await this.grab(), new Date().toLocaleTimeString()); }
    catch (e) { setStatus(this.status, this.kind().label + ': ' + errorText(e), true); }
  }

  async captureCurrent() {
    try { this.diff(await this.grab()); }
    catch (e) { setStatus(this.status, this.kind().label + ': ' + errorText(e), true); }
  }

  async fromFile(input, isBase) {
    try {
      const p = parseProfile(await readFileJSON(input));
      if (isBase) this.setBaseline(p, input.files[0].name);
      else if (!this.baseline) setStatus(this.status, 'open or capture a baseline first', true);
      else this.diff(p);
    } catch (e) { setStatus(this.status, errorText(e), true); }
    input.value = '';
  }
}

/* --- Threads view. parseThreads is the one place that knows the JSON shape:
 * the dump of /debug/pprof/threads?format=json ({threads: [{tid, name, state,
 * state_name, frames: [{function, file, line, address}], stack_reason}]},
 * leaf first), or the threads profile (one sample per distinct stack, value =
 * thread count, labels thread="worker*3,main" state="sleeping*2,running"). */
function frameText(f) {
  if (typeof f === 'string') return f;
  const fn = f.function || f.name || f.address || '?';
  const file = f.file ? ' ' + f.file.split('/').pop() + (f.line ? ':' + f.line : '') : '';
  return fn + file;
}

/* "a*3,b" -> [["a", 3], ["b", 1]]; also "a=3" and "a:3". */
function countedList(text, dflt) {
  return String(text).split(/,\s*/).filter(Boolean).map((part) => {
    const m = /^(.*?)(?:[*=:](\d+))?$/.exec(part);
    return [m[1], m[2] ? Number(m[2]) : dflt];
  });
}

function parseThreads(json) {
  const groups = [];
  const states = new Map();
  const addState = (s, n) => states.set(s, (states.get(s) || 0) + n);
  if (json && Array.isArray(json.threads)) {
    const byStack = new Map();
    for (const t of json.threads) {
      let frames = (t.frames || t.stack || []).map(frameText);
      if (!frames.length) frames = ['(no stack: ' + (t.stack_reason || t.stack_status || 'unknown') + ')'];
      const key = frames.join('\n');
      let g = byStack.get(key);
      if (!g) { g = { count: 0, frames, names: [], states: new Map() }; byStack.set(key, g); groups.push(g); }
      g.count++;
      g.names.push((t.name || '?') + (t.tid != null ? ' (' + t.tid + ')' : ''));
      const st = t.state_name || t.state || 'unknown';
      g.states.set(st, (g.states.get(st) || 0) + 1);
      addState(st, 1);
    }
  } else {
    const p = parseProfile(json);
    for (const s of p.stacks) {
      const count = Number(s.values[p.defaultIndex]) || Number(s.values[0]) || 1;
      const g = { count, frames: stackNames(p, s).reverse(), names: [], states: new Map() };
      for (const [k, v] of Object.entries(s.labels)) {
        if (/^(thread|threads|name|names)$/.test(k))
          for (const [n, c] of countedList(v, 1)) g.names.push(c > 1 ? n + ' \u00d7' + c : n);
        else if (/^states?$/.test(k)) {
          /* One state without a count covers every thread of the sample. */
          const list = countedList(v, 1);
          if (list.length === 1 && !/[*=:]\d+$/.test(String(v))) list[0][1] = count;
          for (const [st, c] of list) { g.states.set(st, (g.states.get(st) || 0) + c); addState(st, c); }
        } else g.names.push(k + '=' + v);
      }
      if (!g.states.size) addState('unknown', count);
      groups.push(g);
    }
  }
  groups.sort((a, b) => b.count - a.count);
  const total = groups.reduce((s, g) => s + g.count, 0);
  return { total, states, groups };
}

/* The threads dump as a profile for the flame graph: one sample per thread,
 * value 1 (the JSON profile model passes through unchanged). */
function threadsAsProfile(json) {
  if (!json || !Array.isArray(json.threads)) return parseProfile(json);
  const names = [], ids = new Map();
  const intern = (n) => { let i = ids.get(n); if (i === undefined) { i = names.length; names.push(n); ids.set(n, i); } return i; };
  const stacks = json.threads.map((t) => {
    const frames = (t.frames || []).map((f) => intern(typeof f === 'string' ? f : f.function || f.address || '?')).reverse();
    if (!frames.length) frames.push(intern('(no stack: ' + (t.stack_reason || 'unknown') + ')'));
    frames.unshift(intern('state: ' + (t.state_name || t.state || 'unknown')));
    return { frames, values: [1], labels: { thread: t.name, tid: t.tid } };
  });
  return { name: 'threads', sampleTypes: [{ type: 'threads', unit: 'count' }], defaultIndex: 0, names, stacks,
    durationNanos: 0, timeNanos: json.time_nanos || 0, comments: [], period: 1, periodType: null };
}

class ThreadsView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { btn: $('threads-refresh'), status: $('threads-status'), statesBox: $('threads-states'), groupsBox: $('threads-groups') });
    this.btn.addEventListener('click', () => this.refresh());
  }

  async refresh() {
    setStatus(this.status, 'loading\u2026');
    try {
      const { json } = await fetchProfile(KINDS.find((k) => k.id === 'threads'), 0);
      this.render(parseThreads(json));
    } catch (e) {
      setStatus(this.status, 'threads: ' + errorText(e), true);
      this.statesBox.textContent = '';
      this.groupsBox.textContent = '';
    }
  }

  render(t) {
    setStatus(this.status, t.total + ' threads in ' + t.groups.length + ' distinct stacks');
    this.statesBox.textContent = '';
    for (const [s, n] of [...t.states].sort((a, b) => b[1] - a[1]))
      this.statesBox.append(el('span', { class: 'chip' }, el('b', { text: String(n) }), s));
    this.groupsBox.textContent = '';
    for (const g of t.groups) {
      const st = [...g.states].map(([s, n]) => s + (g.states.size > 1 ? ' \u00d7' + n : '')).join(', ');
      const names = g.names.slice(0, 8).join(', ') + (g.names.length > 8 ? ', \u2026' : '');
      this.groupsBox.append(el('details', { class: 'group' },
        el('summary', {}, el('b', { text: g.count + ' \u00d7 ' }), (g.frames[0] || '?') + (st ? ' [' + st + ']' : '') + (names ? ' \u2014 ' + names : '')),
        el('ol', {}, ...g.frames.map((f) => el('li', { text: f })))));
    }
  }
}

/* --- Tasks view. parseTasks is the one place that knows the JSON shape:
 * {tasks: [...], counts|kinds: ...} or a bare list; ages and overdue amounts
 * in *_ns / *_nanos, *_seconds, or plain numbers (seconds). */
function secondsOf(t, base) {
  for (const [suffix, mul] of [['_ns', 1e-9], ['_nanos', 1e-9], ['_us', 1e-6], ['_ms', 1e-3], ['_seconds', 1], ['_s', 1], ['', 1]]) {
    const v = t[base + suffix];
    if (typeof v === 'number') return v * mul;
  }
  return null;
}

function parseTasks(json) {
  const list = Array.isArray(json) ? json : json && Array.isArray(json.tasks) ? json.tasks : [];
  const tasks = list.map((t) => {
    const overdue = secondsOf(t, 'overdue') ?? secondsOf(t, 'past_deadline') ?? null;
    const birth = Array.isArray(t.birth_stack) ? t.birth_stack.map(frameText) : [];
    return { id: t.id ?? '', kind: t.kind ?? '', name: t.name ?? '', state: t.state ?? '',
      age: secondsOf(t, 'age') ?? 0, overdue: overdue != null ? overdue : 0, thread: t.thread ?? t.tid ?? '',
      deadline: secondsOf(t, 'deadline') ?? null, birth };
  });
  /* Counts: kinds as a list [{kind, live, overdue, states: {...}}] or an
   * object {kind: {live, ...}} or {kind: n}; else counted from the tasks. */
  const counts = new Map();
  const src = json && !Array.isArray(json) ? json.kinds || json.counts || null : null;
  const addKind = (kind, v) => {
    if (typeof v === 'number') { counts.set(kind, v); return; }
    for (const [k, n] of Object.entries(v || {})) {
      if (typeof n === 'number' && n) counts.set(kind + ' ' + k.replace(/_/g, ' '), n);
      else if (k === 'states' && n && typeof n === 'object')
        for (const [st, c] of Object.entries(n)) if (c) counts.set(kind + ' ' + st, c);
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

class TasksView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { btn: $('tasks-refresh'), status: $('tasks-status'), summary: $('tasks-summary'), overdueBox: $('tasks-overdue'), oldestBox: $('tasks-oldest') });
    this.btn.addEventListener('click', () => this.refresh());
  }

  async refresh() {
    setStatus(this.status, 'loading\u2026');
    try {
      this.render(parseTasks(await fetchData('/debug/pprof/tasks?format=json')));
    } catch (e) {
      setStatus(this.status, 'tasks: ' + errorText(e), true);
      for (const b of [this.summary, this.overdueBox, this.oldestBox]) b.textContent = '';
    }
  }

  table(rows, empty) {
    if (!rows.length) return el('p', { class: 'empty', text: empty });
    const head = ['id', 'kind', 'name', 'state', 'age', 'overdue by', 'thread', 'begun at'];
    return el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { class: h === 'name' ? 'name' : '', text: h })))),
      el('tbody', {}, ...rows.map((t) => el('tr', {},
        el('td', { text: String(t.id) }), el('td', { text: t.kind }), el('td', { class: 'name', text: t.name, title: t.name }),
        el('td', { text: t.state }), el('td', { text: fmtDuration(t.age * 1e9) }),
        el('td', { class: t.overdue > 0 ? 'pos' : '', text: t.overdue > 0 ? fmtDuration(t.overdue * 1e9) : '' }),
        el('td', { text: String(t.thread) }),
        el('td', { class: 'name' }, t.birth.length ? el('details', {}, el('summary', { text: t.birth.find((f) => !/^(introspect_|ix_)/.test(f)) || t.birth[0] }),
          el('ol', {}, ...t.birth.map((f) => el('li', { text: f })))) : '')))));
  }

  render(t) {
    setStatus(this.status, t.total + ' live tasks');
    this.summary.textContent = '';
    for (const [k, n] of t.counts) this.summary.append(el('span', { class: 'chip' }, el('b', { text: String(n) }), k));
    this.overdueBox.replaceChildren(this.table(t.overdue, 'no task is past its deadline'));
    this.oldestBox.replaceChildren(this.table(t.oldest, 'no live tasks'));
  }
}

/* --- Metrics view. parseVars is the one place that knows /debug/vars:
 * memstats (numbers, possibly nested) and pools (object or list, each with
 * DBStats-like fields and a wait histogram in one of a few shapes). */
const MEM_PREFERRED = ['rss_bytes', 'heap_inuse_bytes', 'heap_alloc_bytes', 'HeapInuse', 'HeapAlloc', 'Sys',
  'threads', 'open_fds', 'user_cpu_seconds', 'system_cpu_seconds', 'virtual_bytes', 'minor_faults'];
const MEM_SKIP = /start_time|max_fds|uptime/; /* constants or clocks: no chart */
const MEM_MAX_CHARTS = 12;

function flattenNumbers(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? prefix + '.' + k : k;
    if (typeof v === 'number') out.set(key, v);
    else if (v && typeof v === 'object' && !Array.isArray(v)) flattenNumbers(v, key, out);
  }
  return out;
}

function unitOfKey(k) {
  if (/bytes|^(Heap|Stack)(Alloc|Inuse|Sys|Idle|Released)$|^(Alloc|Sys|TotalAlloc)$/.test(k)) return 'bytes';
  if (/_ns$|nanos|Duration|Pause/i.test(k)) return 'nanoseconds';
  if (/_seconds$/.test(k)) return 'seconds';
  return 'count';
}

/* Histogram shapes accepted: {unit, bounds|le: [...], counts: [...]} (counts may
 * have one more entry, the +Inf bucket), {buckets: [{le, count}]}, or
 * {"<le>": count, ...}. Counts are per bucket unless cumulative: true. */
function parseHistogram(h) {
  if (!h || typeof h !== 'object') return null;
  let pairs = null;
  if (Array.isArray(h.buckets)) pairs = h.buckets.map((b) => [b.le ?? b.upper ?? b.bound, b.count ?? b.n ?? 0]);
  else if (Array.isArray(h.counts) && (Array.isArray(h.bounds) || Array.isArray(h.le)))
    pairs = h.counts.map((c, i) => [(h.bounds || h.le)[i] ?? '+Inf', c]);
  else {
    const e = Object.entries(h).filter(([k, v]) => typeof v === 'number' && /^([0-9.e+-]+|\+Inf)$/i.test(k));
    if (e.length) pairs = e.map(([k, v]) => [k, v]);
  }
  if (!pairs || !pairs.length) return null;
  let counts = pairs.map((p) => Number(p[1]) || 0);
  if (h.cumulative === true) counts = counts.map((c, i) => c - (i ? Number(pairs[i - 1][1]) || 0 : 0));
  const unit = h.unit || 'seconds';
  const label = (b) => (typeof b === 'number' ? '\u2264' + fmtValue(b, unit) : String(b));
  return { labels: pairs.map((p) => label(p[0])), counts, unit };
}

function parseVars(json) {
  const mem = flattenNumbers(json && json.memstats, '', new Map());
  const keys = MEM_PREFERRED.filter((k) => mem.has(k));
  for (const k of mem.keys()) if (keys.length < MEM_MAX_CHARTS && !keys.includes(k) && !MEM_SKIP.test(k)) keys.push(k);
  const pools = [];
  const raw = json && json.pools;
  const list = Array.isArray(raw) ? raw.map((p) => [p.name || '?', p]) : raw && typeof raw === 'object' ? Object.entries(raw) : [];
  for (const [name, p] of list) {
    const hk = Object.keys(p).find((k) => /hist/i.test(k));
    pools.push({ name, stats: flattenNumbers(Object.fromEntries(Object.entries(p).filter(([k]) => k !== hk)), '', new Map()),
      histogram: hk ? parseHistogram(p[hk]) : null });
  }
  return { mem, memKeys: keys, pools };
}

function sparkline(canvas, values, color) {
  const dpr = window.devicePixelRatio || 1, W = 220, H = 50;
  canvas.width = W * dpr; canvas.height = H * dpr;
  canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  if (values.length < 2) return;
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi === lo) { hi += 1; lo -= 1; }
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (W - 2) + 1, y = H - 2 - ((v - lo) / (hi - lo)) * (H - 4);
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
}

function barChart(canvas, labels, counts) {
  const dpr = window.devicePixelRatio || 1, W = 420, H = 140, base = H - 28;
  canvas.width = W * dpr; canvas.height = H * dpr;
  canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const max = Math.max(1, ...counts), bw = W / counts.length;
  ctx.font = '9px sans-serif';
  ctx.textAlign = 'center';
  counts.forEach((c, i) => {
    const h = (c / max) * (base - 12);
    ctx.fillStyle = '#e8743b';
    ctx.fillRect(i * bw + 1, base - h, Math.max(1, bw - 2), h);
    ctx.fillStyle = '#333';
    if (c) ctx.fillText(fmtCount(c), i * bw + bw / 2, base - h - 3);
    if (i % Math.ceil(counts.length / 10) === 0) ctx.fillText(labels[i], i * bw + bw / 2, base + 12);
  });
  ctx.fillText('wait time bucket (upper bound)', W / 2, H - 3);
}

class MetricsView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { live: $('metrics-live'), status: $('metrics-status'), charts: $('metrics-charts'), poolsBox: $('metrics-pools') });
    this.history = new Map();
    this.timer = null;
    this.live.addEventListener('change', () => this.schedule());
  }

  activate(on) { this.active = on; if (on) this.refresh(); this.schedule(); }

  schedule() {
    clearInterval(this.timer);
    this.timer = this.active && this.live.checked ? setInterval(() => this.refresh(), 3000) : null;
  }

  async refresh() {
    try {
      const v = parseVars(await fetchData('/debug/vars'));
      this.render(v);
      setStatus(this.status, 'updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      setStatus(this.status, '/debug/vars: ' + errorText(e), true);
    }
  }

  render(v) {
    this.charts.textContent = '';
    if (!v.memKeys.length) this.charts.append(el('p', { class: 'empty', text: 'no memstats in /debug/vars' }));
    for (const k of v.memKeys) {
      const h = this.history.get(k) || [];
      h.push(v.mem.get(k));
      if (h.length > 100) h.shift();
      this.history.set(k, h);
      const c = el('canvas');
      this.charts.append(el('div', { class: 'chart' }, el('div', { class: 'title', text: 'memstats.' + k }),
        el('div', { class: 'value', text: fmtValue(v.mem.get(k), unitOfKey(k)) }), c));
      sparkline(c, h, '#b3380f');
    }
    this.poolsBox.textContent = '';
    if (!v.pools.length) this.poolsBox.append(el('p', { class: 'empty', text: 'no pools registered (/debug/vars has no "pools")' }));
    for (const p of v.pools) {
      const stats = el('table', {}, el('tbody', {}, ...[...p.stats].map(([k, x]) =>
        el('tr', {}, el('td', { class: 'name', text: k }), el('td', { text: fmtValue(x, unitOfKey(k)) })))));
      const box = el('div', { class: 'chart pool' }, el('div', { class: 'title', text: 'pool ' + p.name }));
      if (p.histogram) {
        const c = el('canvas');
        box.append(el('div', { class: 'title', text: 'wait time histogram' }), c);
        barChart(c, p.histogram.labels, p.histogram.counts);
      }
      box.append(stats);
      this.poolsBox.append(box);
    }
  }
}

/* ------------------------------------------------------------------ wiring */

function main() {
  document.getElementById('origin').textContent = location.host;
  const views = {
    profile: new ProfileView(), diff: new DiffView(), threads: new ThreadsView(),
    tasks: new TasksView(), metrics: new MetricsView(),
  };
  const tabs = document.querySelectorAll('#tabs button');
  const show = (name) => {
    for (const b of tabs) b.classList.toggle('active', b.dataset.view === name);
    for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'view-' + name;
    views.metrics.activate(name === 'metrics');
    if (name === 'threads' || name === 'tasks') views[name].refresh();
    if (name === 'profile' || name === 'diff') views[name].flame.requestDraw();
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  };
  for (const b of tabs) b.addEventListener('click', () => show(b.dataset.view));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') for (const v of [views.profile, views.diff]) v.flame.setZoom(v.flame.tree && v.flame.tree.root);
  });
  show(views[location.hash.slice(1)] ? location.hash.slice(1) : 'profile');
  /* A handle for tests and the console: the views, the parsers. */
  window.introspect = { views, parseProfile, parseThreads, parseTasks, parseVars, buildTree, fmtValue };
}

main();
