/* /debug/pprof/block: where the application waited on instrumented pools,
 * by stack. Cumulative since start, or with ?seconds=N the difference of two
 * snapshots N seconds apart (Go 1.16's delta profiles, file "block-delta"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "http/heavy.h"
#include "endpoints/serve_profile.h"
#include "runtime.h"
#include "registry/pools.h"
#include "sampling/block/mutex.h"
#include "sampling/block/store.h"

static void serve(const struct ix_request *req, struct ix_response *resp,
                  const struct ix_block_snap *now, const struct ix_block_snap *base)
{
    struct ix_profile p;
    ix_profile_init(&p, "block");
    if (ix_block_profile(&p, now, base, ix_pool_name))
        ix_respond_error(resp, 500, "out of memory while building the block profile");
    else
        ix_serve_profile(req, resp, &p, base ? "block-delta" : "block");
    ix_profile_free(&p);
}

void ix_ep_block(const struct ix_request *req, struct ix_response *resp)
{
    long sec;
    if (ix_profile_format_invalid(req, resp) || ix_param_delta_seconds(req, resp, &sec))
        return;
    struct ix_block_snap base, now;
    if (sec > 0) {
        if (ix_heavy_try("block-delta", sec * 1000, resp)) /* 409/429 with Retry-After */
            return;
        if (ix_block_snapshot(&base)) {
            ix_heavy_done("block-delta");
            ix_respond_error(resp, 500, "out of memory");
            return;
        }
        struct ix_cancel gone = ix_request_cancel(req);
        enum ix_wait w = ix_wait_ms(&gone, sec * 1000);
        ix_heavy_done("block-delta");
        if (w != IX_WAIT_DONE) {
            ix_block_snap_free(&base);
            ix_respond_capture_ended(resp, w);
            return;
        }
    }
    if (ix_block_snapshot(&now)) {
        if (sec > 0)
            ix_block_snap_free(&base);
        ix_respond_error(resp, 500, "out of memory");
        return;
    }
    serve(req, resp, &now, sec > 0 ? &base : NULL);
    ix_block_snap_free(&now);
    if (sec > 0)
        ix_block_snap_free(&base);
}

/* /debug/pprof/mutex: Go's mutex profile (sampling/block/mutex.h):
 * contention delay by the stack that unlocked; ?seconds=N for a delta. */
static void serve_mutex(const struct ix_request *req, struct ix_response *resp,
                        const struct ix_mutex_snap *now, const struct ix_mutex_snap *base)
{
    struct ix_profile p;
    ix_profile_init(&p, "mutex");
    if (ix_mutex_profile(&p, now, base))
        ix_respond_error(resp, 500, "out of memory while building the mutex profile");
    else
        ix_serve_profile(req, resp, &p, base ? "mutex-delta" : "mutex");
    ix_profile_free(&p);
}

void ix_ep_mutex(const struct ix_request *req, struct ix_response *resp)
{
    long sec;
    if (ix_profile_format_invalid(req, resp) || ix_param_delta_seconds(req, resp, &sec))
        return;
    struct ix_mutex_snap base, now;
    if (sec > 0) {
        if (ix_heavy_try("mutex-delta", sec * 1000, resp))
            return;
        if (ix_mutex_snapshot(&base)) {
            ix_heavy_done("mutex-delta");
            ix_respond_error(resp, 500, "out of memory");
            return;
        }
        struct ix_cancel gone = ix_request_cancel(req);
        enum ix_wait w = ix_wait_ms(&gone, sec * 1000);
        ix_heavy_done("mutex-delta");
        if (w != IX_WAIT_DONE) {
            ix_mutex_snap_free(&base);
            ix_respond_capture_ended(resp, w);
            return;
        }
    }
    if (ix_mutex_snapshot(&now)) {
        if (sec > 0)
            ix_mutex_snap_free(&base);
        ix_respond_error(resp, 500, "out of memory");
        return;
    }
    serve_mutex(req, resp, &now, sec > 0 ? &base : NULL);
    ix_mutex_snap_free(&now);
    if (sec > 0)
        ix_mutex_snap_free(&base);
}
