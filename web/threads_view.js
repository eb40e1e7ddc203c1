/* Threads view: thread states as chips, then stacks grouped by identity,
 * largest group first (parseThreads reads the JSON). */
import { errorText, fetchProfile } from './api.js';
import { el, setStatus } from './dom.js';
import { KINDS } from './kinds.js';
import { parseThreads } from './threads_model.js';

export class ThreadsView {
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
