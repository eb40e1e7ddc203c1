/* Tasks view: live task counts by kind and state, then the overdue and the
 * oldest tasks with their birth stacks (parseTasks reads the JSON). */
import { errorText, fetchData } from './api.js';
import { el, setStatus } from './dom.js';
import { fmtDuration } from './format.js';
import { parseTasks } from './tasks_model.js';

export class TasksView {
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
