/* The trace model's containers (see model/trace.h). */
#include "model/trace.h"
#include "introspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Grow *arr (of *cap elements of size) to hold one more; 0 or INTROSPECT_ENOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *m = realloc(*arr, c * size);
    if (!m)
        return INTROSPECT_ENOMEM;
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

void ix_trace_span_title(const struct ix_trace_span *s, char *out, size_t n)
{
    switch (s->what) {
    case IX_SPAN_TASK: snprintf(out, n, "%s %s", s->kind, s->name); break;
    case IX_SPAN_POOL: snprintf(out, n, "pool wait: %s", s->name); break;
    default: snprintf(out, n, "%s", s->name); break;
    }
}

void ix_trace_process_name(pid_t pid, char *out, size_t n)
{
    char comm[64] = "";
    FILE *f = fopen("/proc/self/comm", "re");
    if (f) {
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    snprintf(out, n, "%s (pid %d)", comm, (int)pid);
}

/* The sort keys travel with the index: qsort has no context argument, and
 * a global pointing at the spans would be shared by two encodings running
 * at once (a trace is encoded after its window closed, so the next trace's
 * encoding may overlap it): with the other trace's spans the comparator is
 * inconsistent, and glibc's qsort then writes out of bounds (the TSan
 * segfault of trace.task_moving_threads_draws_a_flow). */
struct lane_key {
    pid_t tid;
    int64_t ts, dur;
    size_t idx;
};

static int lane_order(const void *a, const void *b)
{
    const struct lane_key *x = a, *y = b;
    if (x->tid != y->tid)
        return (x->tid > y->tid) - (x->tid < y->tid);
    if (x->ts != y->ts)
        return (x->ts > y->ts) - (x->ts < y->ts);
    if (x->dur != y->dur)
        return (x->dur < y->dur) - (x->dur > y->dur);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

size_t ix_trace_lane_spans(const struct ix_trace *t, size_t *order, unsigned char *nests)
{
    size_t n = 0;
    struct lane_key *keys = malloc((t->nspans + 1) * sizeof *keys);
    for (size_t i = 0; i < t->nspans; i++)
        if (t->spans[i].what <= IX_SPAN_MUTEX) {
            if (keys)
                keys[n] = (struct lane_key){t->spans[i].tid, t->spans[i].ts, t->spans[i].dur, i};
            order[n++] = i;
        }
    if (keys) {
        qsort(keys, n, sizeof *keys, lane_order);
        for (size_t k = 0; k < n; k++)
            order[k] = keys[k].idx;
        free(keys);
    }
    int64_t *ends = malloc((n + 1) * sizeof *ends);
    size_t depth = 0;
    pid_t lane = 0;
    for (size_t k = 0; k < n; k++) {
        const struct ix_trace_span *s = &t->spans[order[k]];
        if (s->tid != lane) {
            depth = 0;
            lane = s->tid;
        }
        int64_t end = s->ts + s->dur;
        while (depth && ends[depth - 1] <= s->ts)
            depth--;
        nests[k] = !ends || !(depth && end > ends[depth - 1]);
        if (ends && nests[k])
            ends[depth++] = end;
    }
    free(ends);
    return n;
}

int ix_trace_pc_lines(struct ix_symbolizer *sym, uintptr_t pc, struct ix_sym_line *lines, int max,
                      char unknown[IX_TRACE_PC_TEXT])
{
    int nl = sym ? ix_symbolize(sym, pc - 1, lines, max) : 0;
    if (nl > 0)
        return nl;
    snprintf(unknown, IX_TRACE_PC_TEXT, "0x%llx", (unsigned long long)pc);
    lines[0] = (struct ix_sym_line){unknown, NULL, 0};
    return 1;
}
