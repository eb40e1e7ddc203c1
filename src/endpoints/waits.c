/* Where threads wait: /debug/pprof/offcpu and /debug/pprof/wall.
 *
 * offcpu: the off-CPU sampler (sampling/block/offcpu.h) runs for ?seconds=N
 * (default 30) at ?hz= (default 100) and its profile is served as is: sample
 * types contentions/count and delay/nanoseconds, as Go's block profile.
 *
 * wall: on-CPU and off-CPU time together, one sample type wall/nanoseconds
 * (and samples/count), merged by model/profile_wall.c. Method: the CPU
 * profiler (its engine: perf rings where allowed, else CPU-time timers)
 * gives where running threads spent CPU time;
 * the off-CPU sampler gives where blocked threads waited, and each thread's
 * time runnable but waiting for a CPU (schedstat, exact, stackless, state
 * "runnable"). Each sample is labelled thread, state ("running", the system
 * call waited in, "runnable") and idle, so `-tagignore idle=true` drops idle
 * waits. Both captures are one at a time (heavy operation "waits"). */

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "endpoints/serve_profile.h"
#include "http/heavy.h"
#include "introspect.h"
#include "model/profile_wall.h"
#include "runtime.h"
#include "sampling/block/offcpu.h"
#include "sampling/cpu/profiler.h"


struct waits_query {
    long seconds, hz;
};

static int parse_query(const struct ix_request *req, struct ix_response *resp,
                       struct waits_query *q)
{
    if (ix_profile_format_invalid(req, resp) || ix_param_seconds(req, resp, 30, &q->seconds) ||
        ix_param_hz(req, resp, IX_OFFCPU_DEFAULT_HZ, &q->hz))
        return INTROSPECT_EINVAL;
    if (q->hz > IX_OFFCPU_MAX_HZ) {
        ix_respond_error(resp, 400, "hz=%ld exceeds the off-CPU sampler's maximum of %d", q->hz,
                         IX_OFFCPU_MAX_HZ);
        return INTROSPECT_EINVAL;
    }
    return 0;
}

void ix_ep_offcpu(const struct ix_request *req, struct ix_response *resp)
{
    struct waits_query q;
    if (parse_query(req, resp, &q))
        return;
    if (ix_heavy_try("waits", q.seconds * 1000, resp))
        return;
    struct ix_offcpu_options o = {q.hz, 0};
    struct ix_offcpu *s;
    int rc = ix_offcpu_start(&o, &s);
    if (rc) {
        ix_heavy_done("waits");
        ix_respond_error(resp, 500, "could not start the off-CPU sampler: %s",
                         introspect_strerror(rc));
        return;
    }
    enum ix_wait ended = ix_ep_sleep(req, q.seconds, NULL);
    struct ix_profile p;
    ix_offcpu_stop(s, &p);
    ix_heavy_done("waits");
    if (ended != IX_WAIT_DONE)
        ix_respond_capture_ended(resp, ended);
    else
        ix_serve_profile(req, resp, &p, "offcpu");
    ix_profile_free(&p);
}

void ix_ep_wall(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    struct waits_query q;
    if (!cfg || parse_query(req, resp, &q))
        return;
    if (ix_heavy_try("waits", q.seconds * 1000, resp))
        return;
    struct ix_cpu_options co = {q.hz, q.seconds, cfg->cpu_engine, cfg->cpu_signal, NULL, NULL};
    char why[300] = "";
    int rc = ix_cpu_start(&co, why, sizeof why);
    if (rc) {
        ix_heavy_done("waits");
        long left = ix_cpu_remaining_seconds();
        if (rc == INTROSPECT_EBUSY) {
            ix_respond_error(resp, 409, "the CPU profiler is in use (a wall profile needs it)");
            ix_response_header(resp, "Retry-After", "%ld", left > 0 ? left : 1);
        } else {
            ix_respond_error(resp, rc == INTROSPECT_ESIGNAL ? 409 : 500,
                             "Could not enable CPU profiling: %s", why);
        }
        return;
    }
    struct ix_offcpu_options o = {q.hz, 1};
    struct ix_offcpu *s;
    rc = ix_offcpu_start(&o, &s);
    if (rc) {
        ix_cpu_stop(NULL);
        ix_heavy_done("waits");
        ix_respond_error(resp, 500, "could not start the off-CPU sampler: %s",
                         introspect_strerror(rc));
        return;
    }
    enum ix_wait ended = ix_ep_sleep(req, q.seconds, ix_cpu_poll);
    struct ix_profile off, cpu, wall;
    ix_offcpu_stop(s, &off);
    ix_cpu_stop(&cpu);
    struct ix_cpu_totals tot;
    ix_cpu_totals(&tot);
    ix_heavy_done("waits");
    if (ended != IX_WAIT_DONE) {
        ix_respond_capture_ended(resp, ended);
    } else {
        ix_profile_wall(&wall, &cpu, &off, q.hz, tot.engine ? tot.engine : "?");
        if (wall.oom)
            ix_respond_error(resp, 500, "out of memory while building the wall profile");
        else
            ix_serve_profile(req, resp, &wall, "wall");
        ix_profile_free(&wall);
    }
    ix_profile_free(&off);
    ix_profile_free(&cpu);
}
