/* The /debug/requests and /debug/slo JSON, read in one place.
 * parseRequests: {routes: [{route, method, total, windows: {1m|5m|1h: {count,
 * rate, 2xx.., error_ratio, p50_ms..max_ms}}, spark_count, spark_p95_ms}]}
 * -> rows sorted by the chosen window's request count, busiest first.
 * parseSlo: {slos: [{name, objective, compliance, budget_left, windows:
 * {5m|30m|1h|6h: {burn_rate}}, alerts: {fast_burn, slow_burn}}]}.
 * Pure: no DOM, so tests/ui/model.test.mjs runs it in Node. */

export const REQUEST_WINDOWS = ['1m', '5m', '1h'];
export const BURN_WINDOWS = ['5m', '30m', '1h', '6h'];

export function parseRequests(json, win = '5m') {
  const routes = json && Array.isArray(json.routes) ? json.routes : [];
  const rows = routes.map((r) => {
    const w = (r.windows && r.windows[win]) || {};
    return {
      route: String(r.route ?? ''), method: String(r.method ?? ''), total: r.total ?? 0,
      count: w.count ?? 0, rate: w.rate ?? 0, errorRatio: w.error_ratio ?? 0,
      c4xx: w['4xx'] ?? 0, c5xx: w['5xx'] ?? 0,
      p50: w.p50_ms ?? 0, p90: w.p90_ms ?? 0, p95: w.p95_ms ?? 0, p99: w.p99_ms ?? 0, max: w.max_ms ?? 0,
      sparkCount: Array.isArray(r.spark_count) ? r.spark_count : [],
      sparkP95: Array.isArray(r.spark_p95_ms) ? r.spark_p95_ms : [],
    };
  });
  rows.sort((a, b) => b.count - a.count || a.route.localeCompare(b.route));
  return { rows, overCap: json?.over_cap ?? 0, maxRoutes: json?.max_routes ?? 0 };
}

export function parseSlo(json) {
  const list = json && Array.isArray(json.slos) ? json.slos : [];
  return list.map((s) => ({
    name: String(s.name ?? ''), kind: s.kind ?? '', objective: s.objective ?? 0,
    compliance: s.compliance ?? 1, budgetLeft: s.budget_left ?? 1, routes: s.routes ?? 0,
    burn: BURN_WINDOWS.map((w) => (s.windows && s.windows[w] ? s.windows[w].burn_rate : 0)),
    fast: !!(s.alerts && s.alerts.fast_burn), slow: !!(s.alerts && s.alerts.slow_burn),
  }));
}
