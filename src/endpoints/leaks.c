/* /debug/pprof/leaks: the leak sentinel's suspects over ?window= (default
 * an hour, at most what the history's tiers keep). Text by default,
 * ?format=json (the UI's), ?format=pprof (the heap suspects' growth as a
 * delta heap profile, file "leaks"). */
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/serve_profile.h"
#include "format/leaks.h"
#include "leaks/history.h"
#include "leaks/leaks.h"
#include "util/duration.h"

static void serve_report(const struct ix_request *req, struct ix_response *resp,
                         const struct ix_leak_report *r, int json)
{
    struct ix_profile p;
    int *sample_of = calloc((size_t)r->nsuspects + 1, sizeof *sample_of);
    struct ix_resolved rv;
    int resolved = 0;
    if (!sample_of || ix_leaks_stacks(r, &p, sample_of)) {
        if (sample_of)
            ix_profile_free(&p);
        free(sample_of);
        ix_respond_error(resp, 500, "out of memory while building the report");
        return;
    }
    if (p.nsamples && !p.oom && ix_profile_resolve(&p, &rv) == 0)
        resolved = 1;
    if (!resolved)
        for (int i = 0; i < r->nsuspects; i++)
            sample_of[i] = -1;
    int rc;
    if (json) {
        resp->content_type = "application/json; charset=utf-8";
        rc = ix_leaks_json_encode(r, resolved ? &rv : NULL, sample_of, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        rc = ix_leaks_text_encode(r, resolved ? &rv : NULL, sample_of, &resp->body);
    }
    (void)req;
    if (resolved)
        ix_resolved_free(&rv);
    ix_profile_free(&p);
    free(sample_of);
    if (rc)
        ix_respond_error(resp, 500, "could not encode the report");
}

void ix_ep_leaks(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "pprof")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want text, json or pprof)", fmt);
        return;
    }
    struct ix_history_info info;
    ix_history_get_info(&info);
    const char *w = ix_param(req, "window");
    int64_t window = 0;
    if (w && (ix_parse_duration_ns(w, &window) || window <= 0)) {
        ix_respond_error(resp, 400, "invalid value for \"window\" - want a duration such as 30m, "
                                    "1h or 600 (seconds)");
        return;
    }
    if (!info.enabled) {
        ix_respond_error(resp, 404, "the leak history is off (INTROSPECT_HISTORY_INTERVAL or "
                                    "INTROSPECT_HISTORY_BUDGET is 0)");
        return;
    }
    if (window > info.max_span_ns) {
        ix_respond_error(resp, 400, "window exceeds the history kept (at most %.0f s at this "
                                    "interval)", (double)info.max_span_ns / 1e9);
        return;
    }
    struct ix_leak_report r;
    if (ix_leaks_analyze(window, &r)) {
        ix_respond_error(resp, 500, "out of memory while judging the history");
        return;
    }
    if (fmt && strcmp(fmt, "pprof") == 0) {
        struct ix_profile p;
        if (ix_leaks_profile(&r, &p) == 0)
            ix_serve_profile(req, resp, &p, "leaks");
        else
            ix_respond_error(resp, 500, "out of memory while building the profile");
        ix_profile_free(&p);
    } else {
        serve_report(req, resp, &r, fmt && strcmp(fmt, "json") == 0);
    }
    ix_leak_report_free(&r);
}
