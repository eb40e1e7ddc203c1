/* /debug/pprof/heap?base=-10m (relative) or ?base=<unix seconds>: the heap
 * now minus the heap at the nearest snapshot the leak history retains, as
 * `go tool pprof -base` computes offline (file "<name>-delta"). 400 when the
 * history is off or holds nothing that old. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/serve_profile.h"
#include "leaks/history.h"
#include "model/profile_delta.h"
#include "sampling/heap/heap.h"
#include "util/duration.h"
#include "introspect.h"

/* The target time in ns on the history's clock, or -1 after a 400. */
static int64_t parse_base(const struct ix_request *req, struct ix_response *resp, int64_t now)
{
    const char *b = ix_param(req, "base");
    int64_t d;
    if (b[0] == '-') {
        if (ix_parse_duration_ns(b + 1, &d) == 0 && d > 0)
            return now - d;
    } else {
        char *end;
        double t = strtod(b, &end);
        if (end != b && !*end && t > 0 && t < 1e11 && (b[0] >= '0' && b[0] <= '9'))
            return (int64_t)(t * 1e9);
    }
    ix_respond_error(resp, 400, "invalid value for \"base\" - want -DURATION (e.g. -10m) or "
                                "Unix seconds");
    return INTROSPECT_EINVAL;
}

void ix_serve_heap_base(const struct ix_request *req, struct ix_response *resp, const char *name)
{
    const char *dbg = ix_param(req, "debug");
    if (ix_param(req, "seconds")) {
        ix_respond_error(resp, 400, "base and seconds params are incompatible");
        return;
    }
    if (dbg && atoi(dbg) != 0) {
        ix_respond_error(resp, 400, "base and debug params are incompatible");
        return;
    }
    if (ix_profile_format_invalid(req, resp))
        return;
    int64_t now = ix_history_now_ns();
    int64_t target = parse_base(req, resp, now);
    if (target < 0)
        return;
    if (target > now) {
        ix_respond_error(resp, 400, "base is in the future");
        return;
    }
    struct ix_history_info info;
    ix_history_get_info(&info);
    struct ix_heap_record *r;
    size_t n;
    int64_t at;
    int rc = ix_history_heap_at(target, &r, &n, &at);
    if (rc == INTROSPECT_ENOTSTARTED || rc == INTROSPECT_EINVAL) {
        if (!info.enabled)
            ix_respond_error(resp, 400, "base needs the leak history, which is off "
                                        "(INTROSPECT_HISTORY_INTERVAL or _BUDGET is 0)");
        else if (!info.snapshots)
            ix_respond_error(resp, 400, "no heap snapshot retained yet");
        else
            ix_respond_error(resp, 400, "no heap snapshot retained that old: the oldest is %.0f s "
                                        "old", (double)(now - info.oldest_ns) / 1e9);
        return;
    }
    struct ix_profile base, cur, d;
    char fname[64];
    snprintf(fname, sizeof fname, "%s-delta", name);
    rc = rc ? rc : ix_heap_profile_of(&base, name, r, n, at);
    free(r);
    if (rc == 0 && ix_heap_profile(&cur, name) == 0) {
        cur.time_nanos = now; /* the history's clock, so duration is against the snapshot */
        if (ix_profile_delta(&cur, &base, &d) == 0) {
            ix_profile_comment(&d, "delta against the heap snapshot at %.0f (Unix s), %.0f s "
                                   "before now", (double)at / 1e9, (double)(now - at) / 1e9);
            ix_serve_profile(req, resp, &d, fname);
            ix_profile_free(&d);
        } else {
            ix_respond_error(resp, 500, "out of memory while building the profile");
        }
        ix_profile_free(&cur);
    } else {
        ix_respond_error(resp, 500, "out of memory while building the profile");
    }
    if (rc == 0)
        ix_profile_free(&base);
}
