/* Fetching the server's endpoints. A 404 means the producer is not in this
 * build, and says so; other errors carry the server's first line. Requests
 * go to this origin only (CSP connect-src 'self'). The token needs no code
 * here: /debug/pprof/ui/?token= set an HttpOnly cookie that the browser adds
 * to every same-origin request, the module scripts' included.
 * No DOM: tests/ui/model.test.mjs runs it in Node against a stubbed fetch. */

import { decodePprof, gunzip } from './pprof_model.js';
import { withPid } from './processes_model.js';

export class NotAvailable extends Error {}

/* The process every request is for (the header's selector): null = the
 * process serving this page (the root of a tree). tree: the root has
 * children and the whole tree is chosen, so profiles come merged. */
let currentPid = null;
let treeMode = false;
export function setProcess(pid, tree = false) {
  currentPid = pid === '' || pid === null || pid === undefined ? null : pid;
  treeMode = currentPid === null && !!tree;
}
export function forProcess(url) { return withPid(url, currentPid); }
export function wholeTree() { return treeMode; }

/* A heavy endpoint answers 409 (the same kind is already running: a scrape
 * by Parca, another tab) or 429 (too many at once) with Retry-After: the
 * page waits that long (at most 30 s) and asks again, a few times, unless
 * the request is cancelled meanwhile. */
export const BUSY_RETRIES = 3;

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(new DOMException('cancelled', 'AbortError'));
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('cancelled', 'AbortError')); }, { once: true });
  });
}

async function fetchWhenFree(url, signal) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(url, { signal, cache: 'no-store' });
    if ((r.status !== 409 && r.status !== 429) || attempt >= BUSY_RETRIES) return r;
    const h = r.headers.get('Retry-After'), s = h === null ? NaN : Number(h);
    await pause(Math.min(Number.isFinite(s) && s >= 0 ? s : 1, 30) * 1000, signal);
  }
}

/* GET a URL (for the chosen process): the response, or the error to show.
 * A 404 means the producer is not in this build. */
async function fetchOk(url, signal) {
  url = forProcess(url);
  const r = await fetchWhenFree(url, signal);
  if (r.status === 404) throw new NotAvailable('not available in this build (' + url.split('?')[0] + ' answered 404)');
  if (!r.ok) {
    const why = (await r.text()).trim().split('\n')[0];
    throw new Error(url.split('?')[0] + ': HTTP ' + r.status + (why ? ' \u2013 ' + why : ''));
  }
  return r;
}

/* GET a URL; JSON or text. */
export async function fetchData(url, { signal, json = true } = {}) {
  const r = await fetchOk(url, signal);
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

/* GET a URL's bytes (a gzipped pprof), with fetchData's errors. */
export async function fetchBytes(url, { signal } = {}) {
  const r = await fetchOk(url, signal);
  return new Uint8Array(await r.arrayBuffer());
}

/* Fetch a kind's JSON profile, trying its alias path on 404. merged: the
 * whole tree's profile, which the root serves merged as pprof only (each
 * sample labelled pid and process): read here into the same JSON model. */
export async function fetchProfile(kind, seconds, signal, { merged = false } = {}) {
  const one = async (path) => {
    if (!merged) return fetchData(kindUrl(kind, path, seconds, true), { signal });
    return decodePprof(await gunzip(await fetchBytes(kindUrl(kind, path, seconds, false), { signal })), kind.id);
  };
  try {
    return { json: await one(kind.path), path: kind.path, merged };
  } catch (e) {
    if (!(e instanceof NotAvailable) || !kind.alt) throw e;
    return { json: await one(kind.alt), path: kind.alt, merged };
  }
}
