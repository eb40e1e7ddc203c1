/* The process tree of a pre-forking server (/debug/pprof/processes): the
 * choices of the header's process selector, and the URL of one process.
 * No DOM: tests/ui/model.test.mjs runs it in Node. */

/* Options for the selector from the endpoint's JSON: the root first, as
 * {pid, label, root}. One process (no tree) gives an empty list. */
export function processChoices(json) {
  const ps = (json && Array.isArray(json.processes)) ? json.processes : [];
  if (ps.length < 2) return [];
  return ps.map((p) => ({
    pid: p.pid,
    root: !!p.root,
    label: p.pid + (p.root ? ' (root) ' : ' ') + String(p.role || p.comm || '').slice(0, 60),
  }));
}

/* url with ?pid=N (or &pid=N) added; pid null or undefined leaves it as is. */
export function withPid(url, pid) {
  if (pid === null || pid === undefined || pid === '') return url;
  return url + (url.includes('?') ? '&' : '?') + 'pid=' + encodeURIComponent(String(pid));
}
