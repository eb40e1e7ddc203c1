/* Profiles view: pick a kind, capture it (timed kinds with a progress bar
 * and Cancel, which aborts the request so the server stops sampling), or open
 * a saved ?format=json file; then draw it, with the pprof download link and
 * the matching go tool pprof command. */
import { errorText, fetchProfile, forProcess, kindUrl, wholeTree } from './api.js';
import { copyText, el, readFileJSON, setStatus } from './dom.js';
import { FlameView } from './flame.js';
import { fmtDuration } from './format.js';
import { KINDS } from './kinds.js';
import { byLabel, hasIdle, labelKeys, parseProfile, withoutIdle } from './profile_model.js';

export class ProfileView {
  constructor() {
    const $ = (id) => document.getElementById(id);
    Object.assign(this, { kindSel: $('kind'), seconds: $('seconds'), secondsBox: $('seconds-box'), captureBtn: $('capture'),
      cancelBtn: $('cancel'), progress: $('progress'), bar: $('progress-bar'), barText: $('progress-text'),
      status: $('status'), actions: $('profile-actions'), download: $('download'), cmd: $('pprof-cmd'),
      copyBtn: $('copy-cmd'), meta: $('profile-meta'), desc: $('kind-desc'), file: $('open-file'),
      idleBox: $('idle-box'), hideIdle: $('hide-idle') });
    for (const k of KINDS) this.kindSel.append(el('option', { value: k.id, text: k.label }));
    this.flame = new FlameView($('profile-flame'));
    this.flame.keepType = true;
    this.flame.onTypeChange = () => this.updateCommand();
    this.kindSel.addEventListener('change', () => this.onKind());
    this.captureBtn.addEventListener('click', () => this.capture());
    this.cancelBtn.addEventListener('click', () => this.controller && this.controller.abort());
    this.copyBtn.addEventListener('click', () => copyText(this.cmd.textContent, this.copyBtn));
    this.file.addEventListener('change', () => this.openFile());
    this.hideIdle.addEventListener('change', () => this.shown && this.showProfile(...this.shown));
    /* Split or filter by a sample label (route, tenant, thread...), as pprof's -tagroot/-tagfocus. */
    Object.assign(this, { labelsBox: $('profile-labels'), labelKey: $('label-key'), labelOnly: $('label-only'), labelSplit: $('label-split') });
    this.labelKey.addEventListener('change', () => { this.fillLabelValues(); this.applyLabels(); });
    this.labelOnly.addEventListener('change', () => this.applyLabels());
    this.labelSplit.addEventListener('change', () => this.applyLabels());
    this.onKind();
  }

  fillLabels(p) {
    this.raw = p;
    this.keys = labelKeys(p);
    const prev = this.labelKey.value;
    this.labelKey.replaceChildren(el('option', { value: '', text: '(none)' }), ...this.keys.map((k) => el('option', { value: k.key, text: k.key })));
    /* route first when the profile has it: the split a request-serving process wants */
    this.labelKey.value = this.keys.some((k) => k.key === prev) ? prev : this.keys.some((k) => k.key === 'route') ? 'route' : '';
    this.labelsBox.hidden = !this.keys.length;
    this.fillLabelValues();
  }

  fillLabelValues() {
    const k = this.keys.find((x) => x.key === this.labelKey.value);
    this.labelOnly.replaceChildren(el('option', { value: '', text: '(all)' }), ...(k ? k.values : []).map((v) => el('option', { value: v, text: v })));
  }

  applyLabels() {
    if (!this.raw) return;
    const key = this.labelKey.value, only = this.labelOnly.value;
    this.flame.show(key ? byLabel(this.raw, key, { split: this.labelSplit.checked, only: only || null }) : this.raw);
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
      const { json, path, merged } = await fetchProfile(kind, secs, this.controller.signal, { merged: wholeTree() });
      stop(true);
      /* A merged tree is a profile model whatever the kind (threads included). */
      const p = merged ? parseProfile(json) : (kind.parse || parseProfile)(json);
      p.merged = merged;
      this.showProfile(p, kind, path, secs);
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

  showProfile(full, kind, path, secs) {
    const t0 = performance.now();
    this.shown = [full, kind, path, secs];
    /* Wall and off-CPU profiles: idle waits can be hidden. */
    const idle = hasIdle(full);
    this.idleBox.hidden = !idle;
    const p = idle && this.hideIdle.checked ? withoutIdle(full) : full;
    this.labelSplit.checked = false;
    this.fillLabels(p);
    this.labelOnly.value = '';
    /* The whole tree: split by process at first (the pid label of every sample). */
    const pids = full.merged ? (this.keys.find((k) => k.key === 'pid') || { values: [] }).values : [];
    if (pids.length) {
      this.labelKey.value = 'pid';
      this.fillLabelValues();
      this.labelSplit.checked = true;
      this.flame.show(byLabel(p, 'pid', { split: true }));
    } else {
      this.flame.show(p);
    }
    const n = p.stacks.length;
    /* Sampled profiles (heap, allocs) say how far the shown total can be trusted. */
    const pr = p.precision && p.precision[Number(this.flame.typeSel.value)];
    const prec = !pr ? '' : pr.relative_error === null ? ', total: 0 samples'
      : ', total \u00b1' + (100 * pr.relative_error).toFixed(1) + '% (' + pr.samples + ' samples)';
    setStatus(this.status, p.name + ': ' + n + ' stacks, ' + this.flame.tree.nodes + ' frames' + prec +
      (p.hiddenIdle ? ' (' + p.hiddenIdle + ' idle-wait stacks hidden)' : '') +
      (p.durationNanos ? ', ' + fmtDuration(p.durationNanos) : '') +
      (full.merged ? ', whole tree: ' + (pids.length > 1 ? pids.length + ' processes (pid ' + pids.join(', ') + ')' : 'this kind is not merged, or only one process had samples') : '') + ' (built in ' + (performance.now() - t0).toFixed(0) + ' ms)' +
      (this.flame.tree.root.total ? '' : ' \u2014 no samples: nothing ran, or nothing was sampled'));
    this.meta.textContent = p.comments.join('\n');
    document.getElementById('profile-notes').hidden = !p.comments.length;
    // What the profile could not measure, said where the user looks.
    const warn = document.getElementById('profile-warnings');
    warn.textContent = (p.warnings || []).join('\n');
    warn.hidden = !(p.warnings || []).length;
    this.source = kind ? { kind, url: forProcess(kindUrl(kind, path, secs, false)) } : null;
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
    const tag = !this.idleBox.hidden && this.hideIdle.checked ? '-tagignore idle=true ' : '';
    this.cmd.textContent = 'go tool pprof -http=: ' + idx + tag + location.origin + this.source.url;
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
