/* The wall profile: on-CPU and off-CPU time of every thread in one profile
 * (/debug/pprof/wall, endpoints/waits.c). */
#include "model/profile_wall.h"

#include <stdlib.h>
#include <string.h>

static const char *label(const struct ix_sample *s, const char *key)
{
    for (int i = 0; i < s->nlabels; i++)
        if (s->labels[i].str && strcmp(s->labels[i].key, key) == 0)
            return s->labels[i].str;
    return NULL;
}

void ix_profile_wall(struct ix_profile *w, const struct ix_profile *cpu,
                     const struct ix_profile *off, long hz, const char *engine)
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
