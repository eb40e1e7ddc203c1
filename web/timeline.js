/* Timeline view: an execution trace (/debug/pprof/trace) drawn as lanes,
 * one per thread for its tasks and waits and one for its running/blocked
 * states, then counter tracks. Wheel zooms around the pointer, drag pans,
 * double-click resets; clicking a span shows its details and, for a
 * blocked interval, the stack of the call it blocked in. A thread's CPU
 * samples are ticks on a row below its spans; clicking one shows the stack
 * it was running.
 * "Download JSON" saves the trace itself: Perfetto (ui.perfetto.dev, or a
 * local copy of it) and chrome://tracing open that file with no network
 * between them and this page. */
import { errorText, fetchData } from './api.js';
import { el, readFileJSON, setStatus } from './dom.js';
import { fmtDuration } from './format.js';
import { parseTrace, sampleAt, spanAt } from './timeline_model.js';

const ROW = 16, LANE_GAP = 6, LABEL_W = 190, COUNTER_H = 34;
const COLORS = { task: '#4c78a8', pool: '#e45756', mutex: '#f58518', state: '#9ecae9' };
const SAMPLE_COLOR = '#d62728', SAMPLE_HIT_PX = 4;
const laneRows = (l) => l.depth + (l.samples.length ? 1 : 0);

function spanColor(s) {
  if (s.cat === 'state') return s.name.startsWith('running') ? '#72b7b2' : '#bab0ac';
  if (s.cat === 'task' && s.args.overdue) return '#b279a2';
  return COLORS[s.cat] || '#54a24b';
}

export class TimelineView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { btn: $('timeline-capture'), secs: $('timeline-seconds'), file: $('timeline-file'),
      status: $('timeline-status'), box: $('timeline-canvas-box'), detail: $('timeline-detail'),
      download: $('timeline-download') });
    this.canvas = el('canvas', { class: 'tl-canvas' });
    this.box.append(this.canvas);
    this.model = null;
    this.view = [0, 1];
    this.btn.addEventListener('click', () => this.capture());
    this.file.addEventListener('change', async () => {
      try { const j = await readFileJSON(this.file); this.load(j, JSON.stringify(j)); } catch (e) { setStatus(this.status, errorText(e), true); }
    });
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    this.canvas.addEventListener('dblclick', () => { if (this.model) { this.view = [0, this.model.end || 1]; this.draw(); } });
    window.addEventListener('resize', () => this.draw());
  }

  async capture() {
    const s = Math.max(1, Math.min(60, Number(this.secs.value) || 1));
    setStatus(this.status, 'tracing for ' + s + ' s\u2026');
    this.btn.disabled = true;
    try {
      const text = await fetchData('/debug/pprof/trace?seconds=' + s, { json: false });
      this.load(JSON.parse(text), text);
    } catch (e) {
      setStatus(this.status, 'trace: ' + errorText(e), true);
    } finally {
      this.btn.disabled = false;
    }
  }

  load(json, text) {
    this.model = parseTrace(json);
    this.view = [0, this.model.end || 1];
    this.selected = null;
    this.detail.textContent = '';
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    this.download.href = this.url;
    this.download.hidden = false;
    const n = this.model.notes;
    const samples = this.model.lanes.reduce((k, l) => k + l.samples.length, 0);
    setStatus(this.status, this.model.spanCount + ' spans on ' + this.model.lanes.length + ' lanes, ' +
      samples + ' CPU samples' + (n.cpu_samples_dropped ? ' (' + n.cpu_samples_dropped + ' dropped)' : '') + ', ' +
      fmtDuration(this.model.end * 1000) + (n.dropped_events ? ', ' + n.dropped_events + ' events dropped' : ''));
    this.draw();
  }

  layout() {
    let y = 0;
    this.rows = [];
    for (const l of this.model.lanes) {
      this.rows.push({ lane: l, y, h: laneRows(l) * ROW });
      y += laneRows(l) * ROW + LANE_GAP;
    }
    for (const c of this.model.counters) {
      this.rows.push({ counter: c, y, h: COUNTER_H });
      y += COUNTER_H + LANE_GAP;
    }
    return y;
  }

  x(t, w) { return LABEL_W + (t - this.view[0]) / (this.view[1] - this.view[0]) * (w - LABEL_W); }
  t(x, w) { return this.view[0] + (x - LABEL_W) / (w - LABEL_W) * (this.view[1] - this.view[0]); }

  draw() {
    if (!this.model) return;
    const w = Math.max(400, this.box.clientWidth || 800), h = this.layout();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = w * dpr; this.canvas.height = h * dpr;
    this.canvas.style.width = w + 'px'; this.canvas.style.height = h + 'px';
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = '11px sans-serif';
    g.textBaseline = 'middle';
    this.drawn = 0;
    for (const r of this.rows) {
      g.fillStyle = '#f4f4f4';
      g.fillRect(0, r.y, w, r.h);
      g.fillStyle = '#222';
      g.fillText((r.lane ? r.lane.name : r.counter.name).slice(0, 30), 4, r.y + Math.min(r.h, ROW) / 2);
      g.save();
      g.beginPath(); g.rect(LABEL_W, r.y, w - LABEL_W, r.h); g.clip();
      if (r.lane) {
        for (const s of r.lane.spans) {
          const x0 = this.x(s.ts, w), x1 = this.x(s.ts + s.dur, w);
          if (x1 < LABEL_W || x0 > w) continue;
          const sy = r.y + s.depth * ROW;
          g.fillStyle = spanColor(s);
          g.fillRect(x0, sy + 1, Math.max(1, x1 - x0), ROW - 2);
          if (s === this.selected) { g.strokeStyle = '#000'; g.lineWidth = 2; g.strokeRect(x0, sy + 1, Math.max(1, x1 - x0), ROW - 2); }
          if (x1 - x0 > 30) { g.fillStyle = '#fff'; g.fillText(s.name.slice(0, Math.floor((x1 - x0) / 6)), Math.max(x0, LABEL_W) + 2, sy + ROW / 2); }
          this.drawn++;
        }
        const sy = r.y + r.lane.depth * ROW;
        for (const s of r.lane.samples) {
          const x = this.x(s.ts, w);
          if (x < LABEL_W || x > w) continue;
          g.fillStyle = SAMPLE_COLOR;
          g.fillRect(x - 1, sy + 2, 2, ROW - 4);
          if (s === this.selected) { g.strokeStyle = '#000'; g.lineWidth = 2; g.strokeRect(x - 3, sy + 1, 6, ROW - 2); }
          this.drawn++;
        }
      } else {
        const pts = r.counter.points;
        const max = Math.max(1e-9, ...pts.map((p) => p[1]));
        g.strokeStyle = '#4c78a8'; g.lineWidth = 1; g.beginPath();
        pts.forEach((p, i) => { const px = this.x(p[0], w), py = r.y + r.h - 2 - p[1] / max * (r.h - 4); if (i) g.lineTo(px, py); else g.moveTo(px, py); });
        g.stroke();
        g.fillStyle = '#555'; g.fillText('max ' + max, w - 90, r.y + 8);
      }
      g.restore();
    }
  }

  hit(ev) {
    const b = this.canvas.getBoundingClientRect(), w = b.width;
    const x = ev.clientX - b.left, y = ev.clientY - b.top;
    if (x < LABEL_W) return null;
    const r = this.rows.find((q) => q.lane && y >= q.y && y < q.y + q.h);
    if (!r) return null;
    const row = Math.floor((y - r.y) / ROW);
    if (row === r.lane.depth && r.lane.samples.length) {
      const tol = SAMPLE_HIT_PX / (w - LABEL_W) * (this.view[1] - this.view[0]);
      return sampleAt(r.lane, this.t(x, w), tol);
    }
    return spanAt(r.lane, this.t(x, w), row);
  }

  select(s) {
    this.selected = s;
    this.detail.textContent = '';
    if (s) {
      const rows = [['name', s.name], ['category', s.cat], ['start', fmtDuration(s.ts * 1000)],
        ...(s.cat === 'cpu' ? [] : [['duration', fmtDuration(s.dur * 1000)]]),
        ...Object.entries(s.args).map(([k, v]) => [k, String(v)])];
      this.detail.append(el('table', {}, el('tbody', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: v }))))));
      if (s.stack.length) this.detail.append(el('h3', { text: 'Stack' }), el('ol', { class: 'tl-stack' }, ...s.stack.map((f) => el('li', { text: f }))));
    }
    this.draw();
  }

  onWheel(e) {
    if (!this.model) return;
    e.preventDefault();
    const w = this.canvas.getBoundingClientRect().width, t = this.t(e.offsetX, w);
    const k = e.deltaY > 0 ? 1.25 : 0.8, [a, b] = this.view;
    this.view = [t - (t - a) * k, t + (b - t) * k];
    if (this.view[1] - this.view[0] < 1) this.view = [t - 0.5, t + 0.5];
    this.draw();
  }

  onDown(e) {
    if (!this.model) return;
    const x0 = e.clientX, v0 = this.view.slice(), w = this.canvas.getBoundingClientRect().width;
    let moved = false;
    const move = (m) => {
      const dt = (m.clientX - x0) / (w - LABEL_W) * (v0[1] - v0[0]);
      if (Math.abs(m.clientX - x0) > 3) moved = true;
      this.view = [v0[0] - dt, v0[1] - dt];
      this.draw();
    };
    const up = (u) => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      if (!moved) this.select(this.hit(u));
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }

  /* For tests: the page position of the first span (or CPU sample) matching pred. */
  pointOf(pred) {
    const b = this.canvas.getBoundingClientRect(), w = b.width;
    for (const r of this.rows || []) {
      if (!r.lane) continue;
      for (const s of r.lane.samples) {
        const x = this.x(s.ts, w);
        if (!pred(s) || x < LABEL_W || x > w) continue;
        return { x: b.left + x, y: b.top + r.y + r.lane.depth * ROW + ROW / 2 };
      }
      for (const s of r.lane.spans) {
        if (!pred(s)) continue;
        const x0 = Math.max(LABEL_W, this.x(s.ts, w)), x1 = Math.min(w, this.x(s.ts + s.dur, w));
        if (x1 - x0 < 1) continue;
        return { x: b.left + (x0 + x1) / 2, y: b.top + r.y + s.depth * ROW + ROW / 2 };
      }
    }
    return null;
  }
}
