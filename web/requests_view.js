/* Requests view: a table of routes (rate, error ratio, percentiles over the
 * chosen window, sparklines of the last 5 minutes' request count and P95)
 * and the SLOs with their burn rates and alerts. */
import { errorText, fetchData } from './api.js';
import { el, setStatus } from './dom.js';
import { parseRequests, parseSlo, REQUEST_WINDOWS, BURN_WINDOWS } from './requests_model.js';
import { sparkline } from './sparkline.js';

const ms = (v) => (v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v >= 1 ? v.toFixed(1) + ' ms' : (v * 1000).toFixed(0) + ' \u00b5s');

export class RequestsView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { btn: $('requests-refresh'), win: $('requests-window'), status: $('requests-status'), box: $('requests-routes'), sloBox: $('requests-slo') });
    for (const w of REQUEST_WINDOWS) this.win.append(el('option', { value: w, text: w }));
    this.win.value = '5m';
    this.btn.addEventListener('click', () => this.refresh());
    this.win.addEventListener('change', () => this.refresh());
  }

  async refresh() {
    setStatus(this.status, 'loading\u2026');
    try {
      const [req, slo] = await Promise.all([fetchData('/debug/requests?format=json'), fetchData('/debug/slo?format=json')]);
      this.render(parseRequests(req, this.win.value), parseSlo(slo));
    } catch (e) {
      setStatus(this.status, 'requests: ' + errorText(e), true);
      this.box.textContent = '';
      this.sloBox.textContent = '';
    }
  }

  render(r, slos) {
    setStatus(this.status, r.rows.length + ' routes' + (r.overCap ? ', ' + r.overCap + ' requests over the route cap (' + r.maxRoutes + ') counted as "other"' : ''));
    if (!r.rows.length) {
      this.box.replaceChildren(el('p', { class: 'empty', text: 'no requests yet: wrap handlers in introspect_request_begin/end' }));
    } else {
      const head = ['route', 'method', 'req/s', 'errors', 'P50', 'P90', 'P95', 'P99', 'max', 'requests (5 min)', 'P95 (5 min)'];
      const rows = r.rows.map((x) => {
        const c1 = el('canvas', { class: 'spark' }), c2 = el('canvas', { class: 'spark' });
        sparkline(c1, x.sparkCount, '#2a6fdb', 140, 28);
        sparkline(c2, x.sparkP95, '#b00020', 140, 28);
        return el('tr', {},
          el('td', { class: 'name', text: x.route, title: x.route }), el('td', { text: x.method || '\u2013' }),
          el('td', { text: x.rate.toFixed(2) }),
          el('td', { class: x.errorRatio > 0 ? 'pos' : '', text: (100 * x.errorRatio).toFixed(2) + '%' }),
          ...[x.p50, x.p90, x.p95, x.p99, x.max].map((v) => el('td', { text: ms(v) })),
          el('td', {}, c1), el('td', {}, c2));
      });
      this.box.replaceChildren(el('table', { class: 'requests' },
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { class: h === 'route' ? 'name' : '', text: h })))),
        el('tbody', {}, ...rows)));
    }
    if (!slos.length) {
      this.sloBox.replaceChildren(el('p', { class: 'empty', text: 'no SLOs: set INTROSPECT_SLO or call introspect_slo_add' }));
      return;
    }
    const head = ['objective', 'routes', 'compliance (6h)', 'budget left', ...BURN_WINDOWS.map((w) => 'burn ' + w), 'alerts'];
    this.sloBox.replaceChildren(el('table', { class: 'slo' },
      el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { class: h === 'objective' ? 'name' : '', text: h })))),
      el('tbody', {}, ...slos.map((s) => el('tr', {},
        el('td', { class: 'name', text: s.name }), el('td', { text: String(s.routes) }),
        el('td', { text: (100 * s.compliance).toFixed(3) + '%' }),
        el('td', { class: s.budgetLeft < 0 ? 'pos' : '', text: (100 * s.budgetLeft).toFixed(1) + '%' }),
        ...s.burn.map((b) => el('td', { text: b.toFixed(2) + '\u00d7' })),
        el('td', { class: s.fast || s.slow ? 'pos' : '', text: [s.fast && 'FAST BURN', s.slow && 'slow burn'].filter(Boolean).join(', ') || 'ok' }))))));
  }
}
