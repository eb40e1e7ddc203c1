/* /debug/pprof/profile: a CPU profile of every thread, as Go serves it.
 * Query: seconds (default 30), hz (default 100), plus the serve_profile
 * formats. The request's own thread drives the capture: it sleeps in 10 ms
 * steps, polling the profiler (new threads, ring drain), and stops early
 * when the client leaves or the module stops. In a child of a process tree
 * the capture holds the process's exit (tree/spill.h): a child that exits
 * during the window writes what it had for the root to merge. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "endpoints/serve_profile.h"
#include "http/heavy.h"
#include "runtime.h"
#include "sampling/cpu/profiler.h"
#include "tree/spill.h"
#include "util/clock.h"


struct profile_query {
    long seconds, hz;
};

static int parse_query(const struct ix_request *req, struct ix_response *resp,
                       struct profile_query *q)
{
    return ix_profile_format_invalid(req, resp) ||
                   ix_param_capture_seconds(req, resp, 30, &q->seconds) ||
                   ix_param_hz(req, resp, 100, &q->hz)
               ? -1
               : 0;
}

static void refuse(struct ix_response *resp, int rc, const char *why)
{
    if (rc == INTROSPECT_EBUSY) {
        long left = ix_cpu_remaining_seconds();
        ix_respond_error(resp, 409,
                         "Could not enable CPU profiling: cpu profiling already in use "
                         "(another profile ends in about %ld s)",
                         left > 0 ? left : 1);
        ix_response_header(resp, "Retry-After", "%ld", left > 0 ? left : 1); /* after: the error resets headers */
        return;
    }
    ix_respond_error(resp, rc == INTROSPECT_ESIGNAL ? 409 : 500,
                     "Could not enable CPU profiling: %s", why);
}

void ix_ep_profile(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    struct profile_query q;
    if (!cfg || parse_query(req, resp, &q))
        return;
    /* The shared heavy slots: 409 with Go's text while another CPU profile
     * runs, 429 when too many heavy operations run. */
    if (ix_heavy_try_as("cpu-profile", q.seconds * 1000,
                        "Could not enable CPU profiling: cpu profiling already in use "
                        "(another profile ends in about %ld s)", resp))
        return;
    /* Held from the slot on, before the (possibly slow) start: an exit
     * while the capture starts waits for it, then ends its window at once,
     * and the root gets what it had (an exit that came between the slot and
     * the hold left nothing: test_tree_exit under load). */
    const char *fmt = ix_param_format(req); /* only a pprof answer is merged */
    int hold = ix_tree_spill_armed() && (!fmt || strcmp(fmt, "pprof") == 0);
    if (hold)
        ix_exit_hold();
    struct ix_cpu_options o = {q.hz, q.seconds, cfg->cpu_engine, cfg->cpu_signal, NULL, NULL};
    char why[300] = "";
    int rc = ix_cpu_start(&o, why, sizeof why);
    if (rc) {
        if (hold)
            ix_exit_release();
        ix_heavy_done("cpu-profile");
        refuse(resp, rc, why);
        return;
    }
    long long t0 = ix_mono_ns();
    enum ix_wait ended = ix_ep_sleep(req, q.seconds, ix_cpu_poll);
    struct ix_profile prof;
    ix_cpu_stop(&prof);
    ix_heavy_done("cpu-profile");
    if (ended == IX_WAIT_EXITING && hold) {
        ix_profile_comment(&prof, "introspect: pid %d exited %.1f s into its %ld s window: the "
                                  "profile until then", (int)getpid(),
                           (double)(ix_mono_ns() - t0) / 1e9, q.seconds);
        ix_serve_profile_opt(req, resp, &prof, "profile", 0); /* the root cannot read our maps */
        /* Left for the root, which reads it when this answer does not come:
         * an answer racing the process's end could arrive cut short. */
        if (resp->status == 200 && !resp->body.oom &&
            ix_tree_spill_write(resp->body.data, resp->body.len) == 0) {
            ix_buf_free(&resp->body);
            ix_buf_init(&resp->body);
            ix_respond_error(resp, 503, "profile interrupted: the process is exiting (its "
                                        "profile until then is left for the tree's root)");
        }
    } else if (ended != IX_WAIT_DONE) {
        ix_respond_capture_ended(resp, ended);
    } else {
        ix_serve_profile(req, resp, &prof, "profile");
    }
    ix_profile_free(&prof);
    if (hold)
        ix_exit_release();
}
