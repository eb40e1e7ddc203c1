/* Leaks view: the leak sentinel's suspects (/debug/pprof/leaks?format=json),
 * each with its growth over the window as a small chart and its stack, the
 * process figures, and the heap between any two retained snapshots (from
 * /debug/pprof/heap?base=, drawn by the diff flame graph: red grew). */
import { errorText, fetchData } from './api.js';
import { el, setStatus } from './dom.js';
import { FlameView } from './flame.js';
import { fmtSigned, fmtValue } from './format.js';
import { baseUrl, parseLeaks, profileAt } from './leaks_model.js';
import { parseProfile } from './profile_model.js';
import { sparkline } from './sparkline.js';

const fmtAgo = (s) => (s >= 3600 ? (s / 3600).toFixed(1) + ' h' : s >= 60 ? Math.round(s / 60) + ' min' : Math.round(s) + ' s');

export class LeaksView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { windowSel: $('leaks-window'), btn: $('leaks-refresh'), status: $('leaks-status'),
      box: $('leaks-suspects'), procBox: $('leaks-process'), fromSel: $('leaks-from'), toSel: $('leaks-to'),
      diffBtn: $('leaks-diff'), diffStatus: $('leaks-diff-status') });
    this.flame = new FlameView($('leaks-flame'));
    this.flame.keepType = true;
    this.btn.addEventListener('click', () => this.refresh());
    this.windowSel.addEventListener('change', () => this.refresh());
    this.diffBtn.addEventListener('click', () => this.diff());
  }

  async refresh() {
    setStatus(this.status, 'loading\u2026');
    try {
      this.render(parseLeaks(await fetchData('/debug/pprof/leaks?format=json&window=' + this.windowSel.value)));
    } catch (e) {
      setStatus(this.status, 'leaks: ' + errorText(e), true);
      this.box.textContent = '';
      this.procBox.textContent = '';
    }
  }

  card(s) {
    const canvas = el('canvas', { class: 'spark' });
    sparkline(canvas, s.series.map((p) => p.v), '#b3380f', 260, 56);
    const head = '#' + s.rank + ' ' + s.kind + ': ' + s.label;
    const facts = fmtSigned(s.growthPerHour, s.unit) + '/h for ' + (s.atLeast ? '\u2265 ' : '') + fmtAgo(s.growingSeconds) +
      ', now ' + fmtValue(s.current, s.unit) + (s.objects != null ? ' (' + fmtValue(s.objects, 'count') + ' objects)' : '');
    const why = s.samples.toFixed(0) + (s.kind === 'heap' ? ' samples' : '') + ' of growth, z=' + s.z.toFixed(1) +
      ', Mann-Kendall z=' + s.mkz.toFixed(1) + ', tau=' + s.tau.toFixed(2);
    return el('div', { class: 'leak-card' },
      el('div', {}, el('b', { text: head }), el('div', { text: facts }), el('div', { class: 'muted', text: why }),
        s.stack.length ? el('details', {}, el('summary', { text: (s.kind === 'heap' ? 'allocated at ' : 'created at ') + s.stack[0] }),
          el('ol', {}, ...s.stack.map((f) => el('li', { text: f })))) : null),
      canvas);
  }

  render(r) {
    this.report = r;
    const n = r.suspects.length;
    setStatus(this.status, n + ' suspect' + (n === 1 ? '' : 's') + ' over ' + fmtAgo(r.covered) + ' (' + r.snapshots +
      ' snapshots every ' + r.interval + ' s)' + (r.note ? ' \u2013 ' + r.note : ''));
    this.box.replaceChildren(...(n ? r.suspects.map((s) => this.card(s)) : [el('p', { class: 'empty', text: 'nothing grows steadily in this window' })]));
    this.procBox.replaceChildren(...r.process.map((p) => {
      const c = el('canvas', { class: 'spark' });
      sparkline(c, p.series.map((q) => q.v), '#2a6fdb');
      return el('div', { class: 'chart' }, el('div', { text: p.name + ' ' + fmtValue(p.current, p.unit) + ' (' + fmtSigned(p.growthPerHour, p.unit) + '/h)' }), c);
    }));
    /* the retained snapshots, newest last: From defaults to the oldest, To to now */
    const opts = (sel, withNow) => {
      const old = sel.value;
      sel.textContent = '';
      for (const t of r.times) sel.append(el('option', { value: String(t), text: new Date(t * 1000).toLocaleTimeString() + ' (' + fmtAgo(r.time - t) + ' ago)' }));
      if (withNow) sel.append(el('option', { value: 'now', text: 'now' }));
      if ([...sel.options].some((o) => o.value === old)) sel.value = old;
      else sel.value = withNow ? 'now' : sel.options.length ? sel.options[0].value : '';
    };
    opts(this.fromSel, false);
    opts(this.toSel, true);
    this.diffBtn.disabled = !r.times.length;
  }

  async diff() {
    const from = Number(this.fromSel.value), to = this.toSel.value;
    if (to !== 'now' && Number(to) <= from) { setStatus(this.diffStatus, 'pick a To later than From', true); return; }
    setStatus(this.diffStatus, 'loading\u2026');
    try {
      const cur = parseProfile(await fetchData('/debug/pprof/heap?format=json'));
      const base = profileAt(cur, parseProfile(await fetchData(baseUrl(from))));
      const later = to === 'now' ? cur : profileAt(cur, parseProfile(await fetchData(baseUrl(Number(to)))));
      this.flame.show(later, base);
      const t = this.flame.tree, u = this.flame.unit();
      setStatus(this.diffStatus, 'heap ' + (to === 'now' ? 'now' : new Date(Number(to) * 1000).toLocaleTimeString()) + ' vs ' +
        new Date(from * 1000).toLocaleTimeString() + ': ' + fmtSigned(t.root.total - t.root.base, u) + ' (' + fmtValue(t.root.base, u) + ' \u2192 ' + fmtValue(t.root.total, u) + ')');
    } catch (e) { setStatus(this.diffStatus, 'heap diff: ' + errorText(e), true); }
  }
}
