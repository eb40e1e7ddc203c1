/* The top table beside a flame graph: per function self and total (and, in a
 * diff, their change), sorted by a clicked column. Clicking a row hands the
 * function's name to onPick (the flame view searches for it). */
import { el } from './dom.js';
import { fmtSigned, fmtValue, pct } from './format.js';

const PLAIN_COLS = [['name', 'Function'], ['self', 'Self'], ['selfp', 'Self %'], ['total', 'Total'], ['totalp', 'Total %']];
const DIFF_COLS = [['name', 'Function'], ['self', 'Self'], ['total', 'Total'], ['dself', 'Self \u0394'], ['dtotal', 'Total \u0394']];

/* Sort keys, largest first; a diff sorts by the size of the change. */
const SORT_KEY = {
  self: (e) => e.self, selfp: (e) => e.self, total: (e) => e.total, totalp: (e) => e.total,
  dself: (e) => Math.abs(e.self - e.baseSelf), dtotal: (e) => Math.abs(e.total - e.base),
  name: null,
};

/* Only the first rows are rendered: a table of thousands helps nobody. */
const MAX_ROWS = 300;

export class TopTable {
  constructor(onPick) {
    this.onPick = onPick;
    this.sortKey = 'self';
    this.table = el('table', { class: 'fg-table' });
    this.box = el('div', { class: 'fg-table-box' }, this.table);
  }

  /* A plain profile sorts by self, a diff by total change. */
  resetSort(diff) { this.sortKey = diff ? 'dtotal' : 'self'; }

  /* top: topFunctions() of tree; unit: the sample type's unit. */
  show(top, tree, unit) {
    Object.assign(this, { top, tree, unit });
    this.render();
  }

  render() {
    const { unit, tree } = this;
    const cols = tree.diff ? DIFF_COLS : PLAIN_COLS;
    if (!cols.some((c) => c[0] === this.sortKey)) this.resetSort(tree.diff);
    const key = SORT_KEY[this.sortKey];
    const rows = this.top.slice();
    if (key) rows.sort((a, b) => key(b) - key(a) || (a.name < b.name ? -1 : 1));
    else rows.sort((a, b) => (a.name < b.name ? -1 : 1));
    const all = tree.root.total;
    const thead = el('thead', {}, el('tr', {}, ...cols.map(([k, label]) => el('th', {
      class: (k === 'name' ? 'name ' : '') + (k === this.sortKey ? 'sorted' : ''), 'data-key': k, text: label,
      onclick: () => { this.sortKey = k; this.render(); },
    }))));
    const tbody = el('tbody');
    for (const e of rows.slice(0, MAX_ROWS)) {
      const cell = {
        name: e.name, self: fmtValue(e.self, unit), selfp: pct(e.self, all), total: fmtValue(e.total, unit),
        totalp: pct(e.total, all), dself: fmtSigned(e.self - e.baseSelf, unit), dtotal: fmtSigned(e.total - e.base, unit),
      };
      const sign = { dself: e.self - e.baseSelf, dtotal: e.total - e.base };
      tbody.append(el('tr', { title: e.name, onclick: () => this.onPick(e.name) },
        ...cols.map(([k]) => el('td', { class: k === 'name' ? 'name' : sign[k] > 0 ? 'pos' : sign[k] < 0 ? 'neg' : '', text: cell[k] }))));
    }
    this.table.textContent = '';
    this.table.append(thead, tbody);
  }
}
