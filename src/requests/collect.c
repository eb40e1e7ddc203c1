/* Requests and SLOs in /metrics and /debug/vars ("requests", "slo"). */
#include <stdio.h>
#include <stdlib.h>

#include "collectors.h"
#include "introspect.h"
#include "requests/requests.h"

static const char *const class_label[IX_ST_N] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

void ix_collect_requests(struct ix_mset *set)
{
    struct ix_req_snapshot s;
    if (ix_requests_snapshot(&s)) {
        set->oom = 1;
        return;
    }
    if (s.n) {
        struct ix_mfamily *h = ix_mset_family(
            set, "introspect_request_duration_seconds",
            "Latency of requests by route (introspect_request_begin/end)", IX_HISTOGRAM);
        const char *names[2] = {"route", "method"};
        for (int i = 0; i < s.n; i++) {
            const char *vals[2] = {s.routes[i].route, s.routes[i].method};
            ix_mset_histogram(set, h, names, vals, 2, ix_req_classic_bounds, s.routes[i].classic,
                              (size_t)ix_req_nclassic, s.routes[i].sum_s);
            ix_mset_native(set, h, IX_REQ_NATIVE_SCHEMA, IX_REQ_NATIVE_ZERO_THRESHOLD,
                           s.routes[i].native_zero, s.routes[i].native_idx,
                           s.routes[i].native_count, (size_t)s.routes[i].nnative);
        }
        struct ix_mfamily *c = ix_mset_family(set, "introspect_requests_total",
                                              "Requests by route and status class", IX_COUNTER);
        const char *cn[3] = {"route", "method", "code"};
        for (int i = 0; i < s.n; i++)
            for (int k = 0; k < IX_ST_N; k++) {
                if (!s.routes[i].status[k] && k != IX_ST_2XX && k != IX_ST_5XX)
                    continue;
                const char *cv[3] = {s.routes[i].route, s.routes[i].method, class_label[k]};
                ix_mset_value(set, c, cn, cv, 3, (double)s.routes[i].status[k]);
            }
        static const char *const qn[4] = {"p50", "p90", "p95", "p99"};
        struct ix_mfamily *q = ix_mset_family(
            set, "introspect_request_latency_percentile_seconds",
            "Latency percentiles by route over the last 5 minutes (within 0.79%)", IX_GAUGE);
        const char *ln[3] = {"route", "method", "percentile"};
        for (int i = 0; i < s.n; i++) {
            const struct ix_req_window *w = &s.routes[i].win[IX_WIN_5M];
            int64_t v[4] = {w->p50, w->p90, w->p95, w->p99};
            for (int k = 0; k < 4; k++) {
                const char *lv[3] = {s.routes[i].route, s.routes[i].method, qn[k]};
                ix_mset_value(set, q, ln, lv, 3, (double)v[k] / 1e9);
            }
        }
    }
    struct ix_mfamily *o = ix_mset_family(
        set, "introspect_requests_over_route_cap_total",
        "Requests counted under route \"other\" because INTROSPECT_MAX_ROUTES was reached",
        IX_COUNTER);
    ix_mset_value0(set, o, (double)s.folded_routes);
    ix_requests_snapshot_free(&s);

    struct ix_slo_view *v;
    int n = ix_slo_evaluate(&v);
    if (n < 0) {
        set->oom = 1;
        return;
    }
    if (n) {
        struct ix_mfamily *b = ix_mset_family(set, "introspect_slo_burn_rate",
                                              "Error-budget burn rate by SLO and window", IX_GAUGE);
        const char *bn[2] = {"slo", "window"};
        for (int i = 0; i < n; i++)
            for (int w = 0; w < IX_BW_N; w++) {
                const char *bv[2] = {v[i].def->name, ix_slo_window_names[w]};
                ix_mset_value(set, b, bn, bv, 2, v[i].burn[w]);
            }
        struct ix_mfamily *a = ix_mset_family(
            set, "introspect_slo_alert", "1 while a multi-window burn-rate alert fires", IX_GAUGE);
        const char *an[2] = {"slo", "alert"};
        for (int i = 0; i < n; i++) {
            const char *f[2] = {v[i].def->name, "fast_burn"}, *sl[2] = {v[i].def->name, "slow_burn"};
            ix_mset_value(set, a, an, f, 2, v[i].fast_burn);
            ix_mset_value(set, a, an, sl, 2, v[i].slow_burn);
        }
        struct ix_mfamily *l = ix_mset_family(set, "introspect_slo_budget_left_ratio",
                                              "Error budget left over 6 h (1 = untouched)", IX_GAUGE);
        struct ix_mfamily *ob = ix_mset_family(set, "introspect_slo_objective_ratio",
                                               "The SLO's objective", IX_GAUGE);
        for (int i = 0; i < n; i++) {
            ix_mset_value1(set, l, "slo", v[i].def->name, v[i].budget_left_6h);
            ix_mset_value1(set, ob, "slo", v[i].def->name, v[i].def->objective);
        }
    }
    free(v);
}

void ix_vars_requests(introspect_json *j)
{
    struct ix_req_snapshot s;
    if (ix_requests_snapshot(&s)) {
        introspect_json_null(j);
        return;
    }
    ix_requests_json(&s, j);
    ix_requests_snapshot_free(&s);
}

void ix_vars_slo(introspect_json *j)
{
    struct ix_slo_view *v;
    int n = ix_slo_evaluate(&v);
    if (n < 0) {
        introspect_json_null(j);
        return;
    }
    ix_slo_json(v, n, j);
    free(v);
}
