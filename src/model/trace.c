/* The trace model's containers (see model/trace.h). */
#include "model/trace.h"

#include <stdlib.h>
#include <string.h>

/* Grow *arr (of *cap elements of size) to hold one more; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *m = realloc(*arr, c * size);
    if (!m)
        return -1;
    *arr = m;
    *cap = c;
    return 0;
}

struct ix_trace_span *ix_trace_add_span(struct ix_trace *t)
{
    if (grow((void **)&t->spans, &t->capspans, t->nspans, sizeof *t->spans)) {
        t->oom = 1;
        return NULL;
    }
    struct ix_trace_span *s = &t->spans[t->nspans++];
    memset(s, 0, sizeof *s);
    s->stack = -1;
    return s;
}

struct ix_trace_flow *ix_trace_add_flow(struct ix_trace *t)
{
    if (grow((void **)&t->flows, &t->capflows, t->nflows, sizeof *t->flows)) {
        t->oom = 1;
        return NULL;
    }
    struct ix_trace_flow *f = &t->flows[t->nflows++];
    memset(f, 0, sizeof *f);
    return f;
}

void ix_trace_add_sample(struct ix_trace *t, int64_t ts, int series, double value)
{
    if (series < 0)
        return;
    if (grow((void **)&t->samples, &t->capsamples, t->nsamples, sizeof *t->samples)) {
        t->oom = 1;
        return;
    }
    t->samples[t->nsamples++] = (struct ix_trace_sample){ts, series, value};
}

int ix_trace_series(struct ix_trace *t, const char *name)
{
    for (int i = 0; i < t->nseries; i++)
        if (strcmp(t->series[i], name) == 0)
            return i;
    if (t->nseries == IX_TRACE_MAX_SERIES)
        return -1;
    strncpy(t->series[t->nseries], name, sizeof t->series[0] - 1);
    return t->nseries++;
}

struct ix_trace_thread *ix_trace_thread(struct ix_trace *t, pid_t tid, const char *name)
{
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].tid == tid) {
            if (!t->threads[i].name[0] && name)
                strncpy(t->threads[i].name, name, sizeof t->threads[i].name - 1);
            return &t->threads[i];
        }
    if (grow((void **)&t->threads, &t->capthreads, t->nthreads, sizeof *t->threads)) {
        t->oom = 1;
        return NULL;
    }
    struct ix_trace_thread *th = &t->threads[t->nthreads++];
    memset(th, 0, sizeof *th);
    th->tid = tid;
    if (name)
        strncpy(th->name, name, sizeof th->name - 1);
    return th;
}

void ix_trace_add_cpu(struct ix_trace *t, int64_t ts, pid_t tid, int stack, int weight)
{
    if (t->ncpu >= t->max_cpu ||
        grow((void **)&t->cpu, &t->capcpu, t->ncpu, sizeof *t->cpu)) {
        t->cpu_dropped++;
        return;
    }
    t->cpu[t->ncpu++] = (struct ix_trace_cpu){ts, tid, stack, weight};
}

void ix_trace_free(struct ix_trace *t)
{
    free(t->cpu);
    if (t->cpu_stacks) {
        ix_stack_table_release(t->cpu_stacks);
        pthread_mutex_destroy(&t->cpu_stacks->lock);
        free(t->cpu_stacks);
    }
    free(t->spans);
    free(t->flows);
    free(t->samples);
    free(t->threads);
    memset(t, 0, sizeof *t);
}
