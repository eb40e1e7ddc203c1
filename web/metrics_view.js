/* Metrics view: /debug/vars every 3 s while shown: a sparkline per memstat
 * (the last 100 readings) and, per pool, its figures and wait histogram
 * (parseVars reads the JSON). */
import { errorText, fetchData } from './api.js';
import { el, setStatus } from './dom.js';
import { fmtCount, fmtValue } from './format.js';
import { parseVars, unitOfKey } from './metrics_model.js';
import { sparkline } from './sparkline.js';

/* The wait histogram: a bar per bucket, labelled with its count and (every
 * tenth or so) its upper bound. */
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

export class MetricsView {
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
