/* The flame graph, drawn on a canvas, with its tools: sample type, regex
 * search, flame/icicle orientation, click-to-zoom with a breadcrumb, hover
 * tooltip, and the top table beside it. Used by the Profiles and Heap diff
 * views: show(profile) or show(profile, baseline). The tree itself comes from
 * profile_model.js; this file only lays it out, paints and hit-tests it. */
import { el } from './dom.js';
import { fmtSigned, fmtValue, pct } from './format.js';
import { baselineIndex, buildTree, exactNameSearch, markMatches, topFunctions } from './profile_model.js';
import { TopTable } from './top_table.js';

const ROW = 18;
const MIN_PX = 0.5; /* frames narrower than this are not drawn (nor their children) */

/* FNV-1a: a function keeps its colour across redraws and captures. */
function hashName(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}

/* A flame graph with its tools (sample type, search, orientation, breadcrumb)
 * and a sortable top table. show(profile) or show(profile, baseline). */
export class FlameView {
  constructor(host) {
    this.host = host;
    this.profile = null;
    this.baseline = null;
    this.tree = null;
    this.zoom = null;
    this.hover = null;
    this.regex = null;
    this.icicle = false;
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
    this.topTable = new TopTable((name) => { this.search.value = exactNameSearch(name); this.setSearch(this.search.value); });
    this.tooltip = document.getElementById('tooltip');
    const left = el('div', { class: 'fg-left' },
      el('div', { class: 'fg-tools' }, el('label', {}, 'Sample ', this.typeSel), this.search, this.matchInfo,
        this.orient, this.reset),
      this.crumbs, this.canvasBox);
    this.root = el('div', { class: 'fg', hidden: '' }, left, this.topTable.box);
    this.host.append(this.root);

    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => { this.hover = null; this.tooltip.hidden = true; this.drawHover(); });
    this.canvas.addEventListener('click', (e) => { const n = this.hit(e); if (n) this.setZoom(n); });
    new ResizeObserver(() => this.requestDraw()).observe(this.canvasBox);
  }

  /* Draw a profile (and, for a diff, the baseline it is compared with). */
  show(profile, baseline) {
    const prev = this.profile && this.typeSel.value !== '' ? this.profile.sampleTypes[Number(this.typeSel.value)] : null;
    if (!!baseline !== !!this.baseline || !this.profile) this.topTable.resetSort(!!baseline);
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
    const bi = this.baseline ? baselineIndex(this.profile, i, this.baseline) : -1;
    const t0 = performance.now();
    this.tree = buildTree(this.profile, i, this.baseline, bi);
    this.buildMs = performance.now() - t0;
    this.zoom = this.tree.root;
    this.hover = null;
    this.scrollToRoot = true;
    this.setSearch(this.search.value);
    this.topTable.show(topFunctions(this.tree.root), this.tree, this.unit());
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

  /* Highlight the frames whose name matches the regex text and report their share. */
  setSearch(text) {
    this.regex = null;
    this.search.classList.remove('bad');
    if (text) {
      try { this.regex = new RegExp(text); } catch (e) { this.search.classList.add('bad'); }
    }
    const { share, baseShare, count } = this.tree ? markMatches(this.tree, this.regex) : { share: 0, baseShare: 0, count: 0 };
    if (!this.regex || !this.tree) this.matchInfo.textContent = '';
    else {
      const root = this.tree.root;
      let s = 'matched ' + pct(share, root.total) + ' (' + fmtValue(share, this.unit()) + ') in ' + count + ' frames';
      if (this.tree.diff) s += ', ' + fmtSigned(share - baseShare, this.unit()) + ' vs baseline';
      this.matchInfo.textContent = s;
    }
    this.requestDraw();
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
