/* /debug/pprof/heap and /debug/pprof/allocs, as Go's net/http/pprof serves
 * them: the same sampled profile, allocs defaulting to alloc_space;
 * ?seconds=N a delta over N seconds (file "<name>-delta"), ?debug=1 the
 * legacy text form, ?gc=1 accepted as a no-op (C has no collector to run). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "http/heavy.h"
#include "endpoints/serve_profile.h"
#include "format/heaptext.h"
#include "gcstats/memstats.h"
#include "model/profile_delta.h"
#include "runtime.h"
#include "sampling/heap/heap.h"


static void serve_text(struct ix_response *resp)
{
    struct ix_heap_record *r;
    size_t n;
    if (ix_heap_records(&r, &n)) {
        ix_respond_error(resp, 500, "out of memory while building the profile");
        return;
    }
    struct ix_memstats ms;
    ix_memstats_read(&ms);
    ix_buf trailer;
    ix_buf_init(&trailer);
    ix_memstats_go_text(&trailer, &ms);
    resp->content_type = "text/plain; charset=utf-8";
    if (trailer.oom || ix_heap_text_encode(r, n, ix_heap_sample_rate(), &trailer, &resp->body))
        ix_respond_error(resp, 500, "could not encode the profile");
    ix_buf_free(&trailer);
    free(r);
}

static void serve_delta(const struct ix_request *req, struct ix_response *resp, const char *name,
                        int kind)
{
    long sec;
    if (ix_param_delta_seconds(req, resp, &sec) || ix_profile_format_invalid(req, resp))
        return;
    const char *heavy = kind ? "allocs-delta" : "heap-delta";
    if (ix_heavy_try(heavy, sec * 1000, resp)) /* 409/429 with Retry-After */
        return;
    struct ix_profile p0, p1, d;
    int rc = ix_heap_profile(&p0, name);
    struct ix_cancel gone = ix_request_cancel(req);
    enum ix_wait waited = rc ? IX_WAIT_DONE : ix_wait_ms(&gone, sec * 1000);
    if (rc == 0 && waited == IX_WAIT_DONE)
        rc = ix_heap_profile(&p1, name);
    else
        ix_profile_init(&p1, name);
    if (rc == 0 && waited == IX_WAIT_DONE) {
        char fname[64];
        snprintf(fname, sizeof fname, "%s-delta", name);
        if (ix_profile_delta(&p1, &p0, &d) == 0) {
            ix_serve_profile(req, resp, &d, fname);
            ix_profile_free(&d);
        } else {
            ix_respond_error(resp, 500, "out of memory while building the profile");
        }
    } else if (waited != IX_WAIT_DONE) {
        ix_respond_capture_ended(resp, waited);
    } else {
        ix_respond_error(resp, 500, "out of memory while building the profile");
    }
    ix_profile_free(&p0);
    ix_profile_free(&p1);
    ix_heavy_done(heavy);
}

static void serve_heap(const struct ix_request *req, struct ix_response *resp, const char *name,
                       int kind)
{
    (void)ix_param(req, "gc"); /* accepted, no-op: nothing to collect in C */
    if (ix_param(req, "base")) { /* against a retained snapshot (endpoints/heap_base.c) */
        ix_serve_heap_base(req, resp, name);
        return;
    }
    if (ix_param(req, "seconds")) {
        serve_delta(req, resp, name, kind);
        return;
    }
    if (ix_profile_format_invalid(req, resp))
        return;
    if (!ix_param_format(req) && ix_param_debug_level(req) != 0) {
        serve_text(resp);
        return;
    }
    struct ix_profile p;
    if (ix_heap_profile(&p, name))
        ix_respond_error(resp, 500, "out of memory while building the profile");
    else
        ix_serve_profile(req, resp, &p, name);
    ix_profile_free(&p);
}

void ix_ep_heap(const struct ix_request *req, struct ix_response *resp)
{
    serve_heap(req, resp, "heap", 0);
}

void ix_ep_allocs(const struct ix_request *req, struct ix_response *resp)
{
    serve_heap(req, resp, "allocs", 1);
}
