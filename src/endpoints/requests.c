/* /debug/requests (routes: percentiles over 1 min, 5 min, 1 h; status
 * classes; error ratio) and /debug/slo (objectives, budget, burn-rate
 * alerts). Text by default, ?format=json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "requests/requests.h"
#include "util/json.h"
#include "introspect.h"

static int want_json(const struct ix_request *req, struct ix_response *resp, int *json)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "text")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want text or json)", fmt);
        return INTROSPECT_EINVAL;
    }
    *json = fmt && !strcmp(fmt, "json");
    return 0;
}

static void ms(ix_buf *b, int64_t ns)
{
    ix_buf_printf(b, " %9.3f", (double)ns / 1e6);
}

static void write_text(const struct ix_req_snapshot *s, ix_buf *b)
{
    ix_buf_printf(b, "requests by route (percentiles within 0.79%%; windows 1m 5m 1h)\n");
    ix_buf_printf(b, "routes %d of at most %d; requests over the cap (route \"other\"): %llu\n\n",
                  s->n, s->max_routes, (unsigned long long)s->folded_routes);
    ix_buf_printf(b, "%-32s %-6s %-3s %9s %8s %8s %9s %9s %9s %9s %9s %8s\n", "route", "method",
                  "win", "count", "rate/s", "err%", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                  "max_ms", "4xx");
    static const double secs[IX_WIN_N] = {60, 300, 3600};
    for (int i = 0; i < s->n; i++) {
        const struct ix_req_route_view *v = &s->routes[i];
        for (int w = 0; w < IX_WIN_N; w++) {
            const struct ix_req_window *x = &v->win[w];
            ix_buf_printf(b, "%-32s %-6s %-3s %9llu %8.2f %8.3f", w ? "" : v->route,
                          w ? "" : (v->method[0] ? v->method : "-"), ix_req_window_names[w],
                          (unsigned long long)x->count, (double)x->count / secs[w],
                          x->count ? 100.0 * (double)x->status[IX_ST_5XX] / (double)x->count : 0);
            ms(b, x->p50);
            ms(b, x->p90);
            ms(b, x->p95);
            ms(b, x->p99);
            ms(b, x->max);
            ix_buf_printf(b, " %8llu\n", (unsigned long long)x->status[IX_ST_4XX]);
        }
    }
}

void ix_ep_requests(const struct ix_request *req, struct ix_response *resp)
{
    int json;
    if (want_json(req, resp, &json))
        return;
    struct ix_req_snapshot s;
    if (ix_requests_snapshot(&s)) {
        ix_respond_error(resp, 500, "out of memory while reading requests");
        return;
    }
    if (json) {
        introspect_json j;
        ix_json_init(&j, &resp->body);
        ix_requests_json(&s, &j);
        resp->content_type = "application/json; charset=utf-8";
    } else {
        write_text(&s, &resp->body);
        resp->content_type = "text/plain; charset=utf-8";
    }
    ix_requests_snapshot_free(&s);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing requests");
}

void ix_ep_slo(const struct ix_request *req, struct ix_response *resp)
{
    int json;
    if (want_json(req, resp, &json))
        return;
    struct ix_slo_view *v;
    int n = ix_slo_evaluate(&v);
    if (n < 0) {
        ix_respond_error(resp, 500, "out of memory while evaluating SLOs");
        return;
    }
    if (json) {
        introspect_json j;
        ix_json_init(&j, &resp->body);
        ix_slo_json(v, n, &j);
        resp->content_type = "application/json; charset=utf-8";
    } else {
        ix_buf *b = &resp->body;
        resp->content_type = "text/plain; charset=utf-8";
        ix_buf_printf(b, "service-level objectives (INTROSPECT_SLO, introspect_slo_add): %d\n", n);
        ix_buf_printf(b, "alerts: fast burn = 1h and 5m burn rates above 14.4; slow burn = 6h "
                         "and 30m above 6\n\n");
        for (int i = 0; i < n; i++) {
            const struct ix_slo_view *s = &v[i];
            ix_buf_printf(b, "%s  (%d routes)\n", s->def->name, s->routes);
            ix_buf_printf(b, "  objective %.4g%%  compliance(6h) %.4f%%  budget left(6h) %.1f%%\n",
                          s->def->objective * 100, s->compliance_6h * 100,
                          s->budget_left_6h * 100);
            ix_buf_printf(b, "  burn rate:");
            for (int w = 0; w < IX_BW_N; w++)
                ix_buf_printf(b, " %s=%.2f (%llu/%llu bad)", ix_slo_window_names[w], s->burn[w],
                              (unsigned long long)s->bad[w], (unsigned long long)s->total[w]);
            ix_buf_printf(b, "\n  alerts: fast_burn=%s slow_burn=%s\n\n",
                          s->fast_burn ? "FIRING" : "ok", s->slow_burn ? "FIRING" : "ok");
        }
    }
    free(v);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing SLOs");
}
