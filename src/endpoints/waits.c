/* Where threads wait: /debug/pprof/offcpu and /debug/pprof/wall.
 *
 * offcpu: the off-CPU sampler (sampling/block/offcpu.h) runs for ?seconds=N
 * (default 30) at ?hz= (default 100) and its profile is served as is: sample
 * types contentions/count and delay/nanoseconds, as Go's block profile.
 *
 * wall: on-CPU and off-CPU time together, one sample type wall/nanoseconds
 * (and samples/count). Method: the CPU profiler (its engine: perf rings where
 * allowed, else CPU-time timers) gives where running threads spent CPU time;
 * the off-CPU sampler gives where blocked threads waited, and each thread's
 * time runnable but waiting for a CPU (schedstat, exact, stackless, state
 * "runnable"). Each sample is labelled thread, state ("running", the system
 * call waited in, "runnable") and idle, so `-tagignore idle=true` drops idle
 * waits. Both captures are one at a time (heavy operation "waits"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "endpoints/serve_profile.h"
#include "http/heavy.h"
#include "introspect.h"
#include "runtime.h"
#include "sampling/block/offcpu.h"
#include "sampling/cpu/profiler.h"

#define POLL_MS 10

struct waits_query {
    long seconds, hz;
};

static int parse_query(const struct ix_request *req, struct ix_response *resp,
                       struct waits_query *q)
{
    if (ix_profile_format_invalid(req, resp) || ix_param_seconds(req, resp, 30, &q->seconds) ||
        ix_param_hz(req, resp, IX_OFFCPU_DEFAULT_HZ, &q->hz))
        return -1;
    if (q->hz > IX_OFFCPU_MAX_HZ) {
        ix_respond_error(resp, 400, "hz=%ld exceeds the off-CPU sampler's maximum of %d", q->hz,
                         IX_OFFCPU_MAX_HZ);
        return -1;
    }
    return 0;
}

/* Sleep through the capture, polling the CPU profiler when it runs. */
static enum ix_wait capture(const struct ix_request *req, long seconds, int cpu)
{
    struct ix_cancel gone = ix_request_cancel(req);
    long long end = ix_mono_ns() + seconds * 1000000000LL;
    for (;;) {
        long long left = end - ix_mono_ns();
        if (left <= 0)
            return IX_WAIT_DONE;
        long ms = left / 1000000 + 1;
        enum ix_wait rc = ix_wait_ms(&gone, ms < POLL_MS ? ms : POLL_MS);
        if (cpu)
            ix_cpu_poll();
        if (rc != IX_WAIT_DONE)
            return rc;
    }
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
    enum ix_wait ended = capture(req, q.seconds, 0);
    struct ix_profile p;
    ix_offcpu_stop(s, &p);
    ix_heavy_done("waits");
    if (ended != IX_WAIT_DONE)
        ix_respond_capture_ended(resp, ended);
    else
        ix_serve_profile(req, resp, &p, "offcpu");
    ix_profile_free(&p);
}

static const char *label(const struct ix_sample *s, const char *key)
{
    for (int i = 0; i < s->nlabels; i++)
        if (s->labels[i].str && strcmp(s->labels[i].key, key) == 0)
            return s->labels[i].str;
    return NULL;
}

/* The wall profile from a CPU profile and an off-CPU profile. */
static void merge(struct ix_profile *w, const struct ix_profile *cpu, const struct ix_profile *off,
                  long hz, const char *engine)
{
    ix_profile_init(w, "wall");
    ix_profile_add_type(w, "samples", "count");
    ix_profile_add_type(w, "wall", "nanoseconds");
    w->period_type = (struct ix_value_type){"wall", "nanoseconds"};
    w->period = 1000000000LL / hz;
    w->default_type = 1;
    w->time_nanos = off->time_nanos;
    w->duration_nanos = off->duration_nanos;
    /* Per thread: CPU time sampled by the CPU profiler, and from the
     * sampler's exact accounting (schedstat) the CPU time ("oncpu") and the
     * time runnable after running (preempted, stackless). The CPU samples
     * are scaled to the exact CPU time, and the preempted time is spread
     * over them in proportion (where a thread runs is where it gets
     * preempted), as state "runnable": go tool pprof ignores samples
     * without a stack, and exact totals make each thread's wall time add up. */
    struct per_thread {
        const char *name;
        int64_t sampled, oncpu, runq;
    } *pt = calloc(cpu->nsamples + off->nsamples + 1, sizeof *pt);
    size_t npt = 0;
    if (!pt) {
        w->oom = 1;
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        const struct ix_profile *src = pass ? off : cpu;
        for (size_t i = 0; i < src->nsamples; i++) {
            const struct ix_sample *s = &src->samples[i];
            const char *t = label(s, "thread"), *st = label(s, "state");
            if (!t || (pass && (s->npcs || !st)))
                continue;
            size_t k = 0;
            while (k < npt && strcmp(pt[k].name, t))
                k++;
            if (k == npt)
                pt[npt++] = (struct per_thread){t, 0, 0, 0};
            if (!pass)
                pt[k].sampled += s->values[1];
            else if (strcmp(st, "oncpu") == 0)
                pt[k].oncpu += s->values[1];
            else if (strcmp(st, "runnable") == 0)
                pt[k].runq += s->values[1];
        }
    }
    for (size_t i = 0; i < cpu->nsamples; i++) {
        const struct ix_sample *s = &cpu->samples[i];
        const char *t = label(s, "thread");
        struct ix_label l[3] = {{"thread", t ? t : "", 0, NULL},
                                {"state", "running", 0, NULL},
                                {"idle", "false", 0, NULL}};
        size_t k = 0;
        while (t && k < npt && strcmp(pt[k].name, t))
            k++;
        const struct per_thread *p = t && k < npt ? &pt[k] : NULL;
        double share = p && p->sampled ? (double)s->values[1] / (double)p->sampled : 0;
        int64_t ns = p && p->oncpu ? (int64_t)(share * (double)p->oncpu) : s->values[1];
        int64_t v[2] = {s->values[0], ns};
        ix_profile_add(w, s->pcs, s->npcs, v, l, 3);
        if (p && p->runq) {
            l[1].str = "runnable";
            int64_t rq = (int64_t)(share * (double)p->runq);
            int64_t rv[2] = {(rq + w->period / 2) / w->period, rq};
            ix_profile_add(w, s->pcs, s->npcs, rv, l, 3);
        }
    }
    for (size_t i = 0; i < off->nsamples; i++) {
        const struct ix_sample *s = &off->samples[i];
        const char *t = label(s, "thread"), *st = label(s, "state"), *idle = label(s, "idle");
        if (!s->npcs && st && t && (!strcmp(st, "runnable") || !strcmp(st, "oncpu"))) {
            size_t k = 0;
            while (k < npt && strcmp(pt[k].name, t))
                k++;
            if (k < npt && pt[k].sampled)
                continue; /* folded into its CPU stacks above */
            if (!strcmp(st, "oncpu"))
                st = "running"; /* no CPU sample of it: its CPU time without a stack */
        }
        struct ix_label l[3] = {{"thread", t ? t : "", 0, NULL},
                                {"state", st ? st : "blocked", 0, NULL},
                                {"idle", idle ? idle : "false", 0, NULL}};
        int64_t v[2] = {(s->values[1] + w->period / 2) / w->period, s->values[1]};
        ix_profile_add(w, s->pcs, s->npcs, v, l, 3);
    }
    free(pt);
    ix_profile_comment(w,
                       "method: on-CPU stacks from the CPU profiler (engine %s, %ld Hz), scaled "
                       "to each thread's exact CPU time (schedstat); off-CPU "
                       "time from sampling blocked threads' stacks without a signal (%ld Hz); "
                       "time runnable but waiting for a CPU from schedstat (state=runnable: after a "
                       "wait on the wait's stack, after running spread over the thread's CPU "
                       "stacks). Drop idle waits with -tagignore idle=true",
                       engine, hz, hz);
    for (int i = 0; i < off->ncomments && w->ncomments < IX_MAX_COMMENTS; i++)
        ix_profile_comment(w, "off-CPU %s", off->comments[i]);
    for (int i = 0; i < cpu->ncomments && w->ncomments < IX_MAX_COMMENTS; i++)
        ix_profile_comment(w, "CPU %s", cpu->comments[i]);
    if (cpu->oom || off->oom)
        w->oom = 1;
}

void ix_ep_wall(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    struct waits_query q;
    if (!cfg || parse_query(req, resp, &q))
        return;
    if (ix_heavy_try("waits", q.seconds * 1000, resp))
        return;
    struct ix_cpu_options co = {q.hz, q.seconds, cfg->cpu_engine, cfg->cpu_signal};
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
    enum ix_wait ended = capture(req, q.seconds, 1);
    struct ix_profile off, cpu, wall;
    ix_offcpu_stop(s, &off);
    ix_cpu_stop(&cpu);
    struct ix_cpu_totals tot;
    ix_cpu_totals(&tot);
    ix_heavy_done("waits");
    if (ended != IX_WAIT_DONE) {
        ix_respond_capture_ended(resp, ended);
    } else {
        merge(&wall, &cpu, &off, q.hz, tot.engine ? tot.engine : "?");
        if (wall.oom)
            ix_respond_error(resp, 500, "out of memory while building the wall profile");
        else
            ix_serve_profile(req, resp, &wall, "wall");
        ix_profile_free(&wall);
    }
    ix_profile_free(&off);
    ix_profile_free(&cpu);
}
