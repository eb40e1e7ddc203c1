/* introspect web UI: the entry module, which builds the views and switches
 * between them with the tabs (and the URL's #hash).
 *
 * Everything drawn comes from the server's own endpoints: profiles as the
 * JSON profile model (?format=json, docs/profile-json.md), /debug/vars for
 * metrics, and the threads and tasks JSON. No framework, no network beyond
 * this origin (the Content-Security-Policy allows only 'self'). The modules,
 * one concern each, are listed in docs/ui.md; the pure ones (format,
 * profile_model, *_model, api, kinds) import no DOM and are tested in Node. */
import { fetchData, setProcess } from './api.js';
import { DiffView } from './diff_view.js';
import { fmtValue } from './format.js';
import { parseLeaks } from './leaks_model.js';
import { LeaksView } from './leaks_view.js';
import { MetricsView } from './metrics_view.js';
import { parseVars } from './metrics_model.js';
import { processChoices } from './processes_model.js';
import { buildTree, parseProfile } from './profile_model.js';
import { ProfileView } from './profile_view.js';
import { parseRequests, parseSlo } from './requests_model.js';
import { RequestsView } from './requests_view.js';
import { parseTasks } from './tasks_model.js';
import { TasksView } from './tasks_view.js';
import { parseThreads } from './threads_model.js';
import { ThreadsView } from './threads_view.js';
import { parseTrace } from './timeline_model.js';
import { TimelineView } from './timeline.js';

/* A pre-forking server: the header's selector picks the process every view
 * asks (?pid=N through the root). "Whole tree": the profile views draw the
 * tree's merged profiles (read from the root's merged pprof), split by pid
 * at first; the other views (threads list, tasks, metrics) show the root. */
async function processSelector() {
  let choices = [];
  try { choices = processChoices(await fetchData('/debug/pprof/processes')); } catch (e) { return; }
  if (!choices.length) return;
  const sel = document.getElementById('process');
  const add = (value, text) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    sel.append(o);
  };
  add('', 'whole tree (' + choices.length + ' processes, merged)');
  for (const c of choices) add(String(c.pid), c.label);
  setProcess('', true);
  sel.addEventListener('change', () => setProcess(sel.value, true));
  document.getElementById('process-box').hidden = false;
}

function main() {
  document.getElementById('origin').textContent = location.host;
  processSelector();
  const views = {
    profile: new ProfileView(), diff: new DiffView(), threads: new ThreadsView(),
    tasks: new TasksView(), requests: new RequestsView(), leaks: new LeaksView(), metrics: new MetricsView(), timeline: new TimelineView(),
  };
  const tabs = document.querySelectorAll('#tabs button');
  const show = (name) => {
    for (const b of tabs) b.classList.toggle('active', b.dataset.view === name);
    for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'view-' + name;
    views.metrics.activate(name === 'metrics');
    if (name === 'threads' || name === 'tasks' || name === 'requests' || name === 'leaks') views[name].refresh();
    if (name === 'profile' || name === 'diff' || name === 'leaks') views[name].flame.requestDraw();
    if (name === 'timeline') views.timeline.draw();
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  };
  for (const b of tabs) b.addEventListener('click', () => show(b.dataset.view));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') for (const v of [views.profile, views.diff]) v.flame.setZoom(v.flame.tree && v.flame.tree.root);
  });
  show(views[location.hash.slice(1)] ? location.hash.slice(1) : 'profile');
  /* A handle for tests and the console: the views, the parsers. */
  window.introspect = { views, parseProfile, parseThreads, parseTasks, parseRequests, parseSlo, parseVars, parseLeaks, parseTrace, buildTree, fmtValue };
}

main();
