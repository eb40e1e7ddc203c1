/* Heap diff view: a baseline and a later capture (or two files) of the same
 * kind, drawn as one flame graph: red grew, blue shrank. */
import { errorText, fetchProfile } from './api.js';
import { el, readFileJSON, setStatus } from './dom.js';
import { FlameView } from './flame.js';
import { fmtSigned, fmtValue } from './format.js';
import { DIFF_KINDS } from './kinds.js';
import { parseProfile } from './profile_model.js';

export class DiffView {
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
