/* Fetching the server's endpoints. A 404 means the producer is not in this
 * build, and says so; other errors carry the server's first line. Requests
 * go to this origin only (CSP connect-src 'self'). The token needs no code
 * here: /debug/pprof/ui/?token= set an HttpOnly cookie that the browser adds
 * to every same-origin request, the module scripts' included.
 * No DOM: tests/ui/model.test.mjs runs it in Node against a stubbed fetch. */

import { withPid } from './processes_model.js';

export class NotAvailable extends Error {}

/* The process every request is for (the header's selector): null = the
 * process serving this page (the root of a tree). */
let currentPid = null;
export function setProcess(pid) { currentPid = pid === '' ? null : pid; }
export function forProcess(url) { return withPid(url, currentPid); }

/* GET a URL; JSON or text. A 404 means the producer is not in this build. */
export async function fetchData(url, { signal, json = true } = {}) {
  url = forProcess(url);
  const r = await fetch(url, { signal, cache: 'no-store' });
  if (r.status === 404) throw new NotAvailable('not available in this build (' + url.split('?')[0] + ' answered 404)');
  if (!r.ok) {
    const why = (await r.text()).trim().split('\n')[0];
    throw new Error(url.split('?')[0] + ': HTTP ' + r.status + (why ? ' \u2013 ' + why : ''));
  }
  return json ? r.json() : r.text();
}

export function errorText(e) {
  if (e && e.name === 'AbortError') return 'cancelled';
  return e && e.message ? e.message : String(e);
}

/* A kind's URL: timed kinds take ?seconds=N; json asks for the JSON model. */
export function kindUrl(kind, path, seconds, json) {
  const q = [];
  if (kind.timed) q.push('seconds=' + seconds);
  if (json) q.push('format=json');
  return path + (q.length ? '?' + q.join('&') : '');
}

/* Fetch a kind's JSON profile, trying its alias path on 404. */
export async function fetchProfile(kind, seconds, signal) {
  try {
    return { json: await fetchData(kindUrl(kind, kind.path, seconds, true), { signal }), path: kind.path };
  } catch (e) {
    if (!(e instanceof NotAvailable) || !kind.alt) throw e;
    return { json: await fetchData(kindUrl(kind, kind.alt, seconds, true), { signal }), path: kind.alt };
  }
}
