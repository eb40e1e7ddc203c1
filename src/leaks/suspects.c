/* Judging the window: two passes over the history under its lock. The
 * first replays the snapshots once with a dense state per series and keeps,
 * per series, its minimum in the window and where it last was there; only
 * series whose growth from that minimum could pass the noise test become
 * candidates (a handful among thousands of stacks). The second replays the
 * window again recording the candidates' points, which are judged after
 * the lock is released (leaks/trend.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcstats/fdtypes.h"
#include "introspect.h"
#include "leaks/history.h"
#include "leaks/leaks.h"
#include "leaks/fd_stacks.h"
#include "leaks/store.h"
#include "registry/tasks.h"
#include "sampling/heap/heap.h"
#include "sampling/threads/create.h"

#define DEFAULT_WINDOW_NS (3600LL * 1000000000LL)

static const char *const process_names[IX_PROC_N] = {
    "rss_bytes", "allocator_inuse_bytes", "allocator_mapped_bytes", "threads", "open_fds"};

struct cand {
    uint32_t id;
    uint8_t kind;
    uint64_t key;
    const uintptr_t *pcs;
    int npcs;
    struct ix_hvals *pts; /* per window snapshot */
};

static void free_cands(struct cand *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].pts);
    free(c);
}

/* Pass one: candidates. Under the lock. */
static int find_candidates(const struct ix_store *st, size_t w0, struct cand **out, size_t *nout)
{
    size_t ns = st->nseries, nw = st->nsnaps - w0;
    struct ix_hvals *state = malloc((ns + 1) * sizeof *state);
    double *minc = malloc((ns + 1) * sizeof *minc);
    int *minidx = malloc((ns + 1) * sizeof *minidx);
    struct cand *c = calloc(ns + 1, sizeof *c);
    if (!state || !minc || !minidx || !c) {
        free(state);
        free(minc);
        free(minidx);
        free(c);
        return INTROSPECT_ENOMEM;
    }
    memcpy(state, st->base, ns * sizeof *state);
    for (size_t i = 0; i <= w0; i++)
        for (uint32_t k = 0; k < st->snaps[i].n; k++)
            state[st->snaps[i].e[k].series] = st->snaps[i].e[k].vals;
    for (size_t id = 0; id < ns; id++) {
        minc[id] = ix_hvals_count(st->series[id].kind, &state[id]);
        minidx[id] = 0;
    }
    for (size_t j = 1; j < nw; j++) {
        const struct ix_hsnap *s = &st->snaps[w0 + j];
        for (uint32_t k = 0; k < s->n; k++) {
            uint32_t id = s->e[k].series;
            int kind = st->series[id].kind;
            if (ix_hvals_count(kind, &state[id]) == minc[id])
                minidx[id] = (int)j - 1;
            state[id] = s->e[k].vals;
            double v = ix_hvals_count(kind, &state[id]);
            if (v <= minc[id]) {
                minc[id] = v;
                minidx[id] = (int)j;
            }
        }
    }
    size_t n = 0;
    for (size_t id = 0; id < ns; id++) {
        int kind = st->series[id].kind;
        double end = ix_hvals_count(kind, &state[id]);
        if (end == minc[id])
            minidx[id] = (int)nw - 1;
        int keep = kind == IX_SERIES_PROCESS;
        if (!keep) {
            struct ix_trend_params prm;
            ix_trend_params_default(&prm, kind == IX_SERIES_HEAP);
            double g = end - minc[id];
            /* looser than the judgement (means of the ends, noise from events) */
            keep = g >= 0.75 * prm.min_growth && (int)nw - minidx[id] >= prm.min_points;
        }
        if (keep)
            c[n++] = (struct cand){(uint32_t)id, (uint8_t)kind, st->series[id].key,
                                   st->series[id].pcs, st->series[id].npcs, NULL};
    }
    free(minc);
    free(minidx);
    /* Pass two: the candidates' points. */
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!(c[i].pts = malloc(nw * sizeof *c[i].pts)))
            rc = INTROSPECT_ENOMEM;
    if (rc == 0) {
        memcpy(state, st->base, ns * sizeof *state);
        for (size_t i = 0; i < st->nsnaps; i++) {
            const struct ix_hsnap *s = &st->snaps[i];
            for (uint32_t k = 0; k < s->n; k++)
                state[s->e[k].series] = s->e[k].vals;
            if (i >= w0)
                for (size_t q = 0; q < n; q++)
                    c[q].pts[i - w0] = state[c[q].id];
        }
    }
    free(state);
    if (rc) {
        free_cands(c, n);
        return INTROSPECT_ENOMEM;
    }
    *out = c;
    *nout = n;
    return 0;
}

static void heap_estimate(const struct ix_hvals *v, int64_t rate, double *objects, double *bytes)
{
    int64_t c, b;
    ix_heap_scale(v->v[0] - v->v[2], v->v[1] - v->v[3], rate, &c, &b);
    *objects = (double)c;
    *bytes = (double)b;
}

static int by_rank(const void *a, const void *b)
{
    const struct ix_leak_suspect *x = a, *y = b;
    if (x->trend.tau != y->trend.tau)
        return x->trend.tau > y->trend.tau ? -1 : 1;
    return (x->trend.poisson_z < y->trend.poisson_z) - (x->trend.poisson_z > y->trend.poisson_z);
}

/* Judge one candidate; fills s when it is a suspect. Returns 1 then. */
static int judge(const struct cand *c, const int64_t *t, int nw, int64_t rate,
                 struct ix_trend_point *pts, struct ix_leak_suspect *s)
{
    int heap = c->kind == IX_SERIES_HEAP;
    for (int j = 0; j < nw; j++) {
        pts[j].t_ns = t[j];
        pts[j].count = ix_hvals_count(c->kind, &c->pts[j]);
        pts[j].events = heap ? (double)(c->pts[j].v[0] + c->pts[j].v[2])
                        : c->kind == IX_SERIES_THREADS ? (double)(c->pts[j].v[1] + c->pts[j].v[2])
                                                       : -1;
        double objs;
        if (heap)
            heap_estimate(&c->pts[j], rate, &objs, &pts[j].value);
        else
            pts[j].value = pts[j].count;
    }
    struct ix_trend_params prm;
    ix_trend_params_default(&prm, heap);
    struct ix_trend tr;
    ix_trend_analyze(pts, nw, &prm, &tr);
    if (!tr.suspect)
        return 0;
    memset(s, 0, sizeof *s);
    s->kind = c->kind == IX_SERIES_HEAP      ? IX_LEAK_HEAP
              : c->kind == IX_SERIES_THREADS ? IX_LEAK_THREADS
              : c->kind == IX_SERIES_TASKS   ? IX_LEAK_TASKS
                                             : IX_LEAK_FDS;
    s->key = ((uint64_t)c->kind << 56) ^ c->key;
    s->trend = tr;
    s->growth_per_hour = tr.slope_per_s * 3600;
    s->growing_s = (double)(t[nw - 1] - t[tr.onset]) / 1e9;
    s->since_window_start = tr.onset == 0;
    s->current = pts[nw - 1].value;
    if (heap) {
        double b;
        heap_estimate(&c->pts[nw - 1], rate, &s->current_objects, &b);
        const struct ix_hvals *a = &c->pts[tr.onset], *z = &c->pts[nw - 1];
        ix_heap_scale(z->v[0] - a->v[0], z->v[1] - a->v[1], rate, &s->delta[0], &s->delta[1]);
        int64_t c0, b0, c1, b1;
        ix_heap_scale(a->v[0] - a->v[2], a->v[1] - a->v[3], rate, &c0, &b0);
        ix_heap_scale(z->v[0] - z->v[2], z->v[1] - z->v[3], rate, &c1, &b1);
        s->delta[2] = c1 - c0;
        s->delta[3] = b1 - b0;
        s->npcs = c->npcs < IX_LEAK_MAX_FRAMES ? c->npcs : IX_LEAK_MAX_FRAMES;
        memcpy(s->pcs, c->pcs, (size_t)s->npcs * sizeof *s->pcs);
    } else if (c->kind == IX_SERIES_THREADS) {
        s->npcs = ix_stack_get(ix_thread_create_stacks(), (int)c->key, s->pcs,
                               IX_LEAK_MAX_FRAMES, NULL);
    } else if (c->kind == IX_SERIES_TASKS) {
        s->name = ix_task_kind_name((int)c->key);
    } else if (c->key & IX_FD_STACK_KEY) { /* descriptors by creating stack */
        s->name = "created here";
        s->npcs = ix_stack_get(ix_fd_stacks(), (int)(c->key & 0xffffffffu), s->pcs,
                               IX_LEAK_MAX_FRAMES, NULL);
    } else {
        s->name = ix_fd_type_name((int)c->key);
    }
    s->npoints = nw;
    s->t_ns = malloc((size_t)nw * sizeof *s->t_ns);
    s->values = malloc((size_t)nw * sizeof *s->values);
    if (s->t_ns && s->values)
        for (int j = 0; j < nw; j++) {
            s->t_ns[j] = t[j];
            s->values[j] = pts[j].value;
        }
    else
        s->npoints = 0;
    return 1;
}

static void judge_process(const struct cand *c, const int64_t *t, int nw,
                          struct ix_trend_point *pts, struct ix_leak_process *p)
{
    for (int j = 0; j < nw; j++)
        pts[j] = (struct ix_trend_point){t[j], (double)c->pts[j].v[0], (double)c->pts[j].v[0], -1};
    struct ix_trend_params prm;
    ix_trend_params_default(&prm, 0);
    struct ix_trend tr;
    ix_trend_analyze(pts, nw, &prm, &tr);
    p->name = c->key < IX_PROC_N ? process_names[c->key] : "unknown";
    p->current = pts[nw - 1].value;
    p->growth_per_hour = tr.slope_per_s * 3600;
    p->t_ns = malloc((size_t)nw * sizeof *p->t_ns);
    p->values = malloc((size_t)nw * sizeof *p->values);
    p->npoints = p->t_ns && p->values ? nw : 0;
    for (int j = 0; j < p->npoints; j++) {
        p->t_ns[j] = t[j];
        p->values[j] = pts[j].value;
    }
}

int ix_leaks_analyze(int64_t window_ns, struct ix_leak_report *r)
{
    memset(r, 0, sizeof *r);
    struct ix_history_info info;
    ix_history_get_info(&info);
    if (!info.enabled)
        return INTROSPECT_ENOTSTARTED;
    if (window_ns <= 0)
        window_ns = DEFAULT_WINDOW_NS;
    r->window_ns = window_ns;
    r->interval_ns = info.interval_ns;
    r->heap_rate = ix_heap_sample_rate();
    pthread_mutex_lock(&ix_hstore.lock);
    const struct ix_store *st = &ix_hstore;
    if (st->nsnaps == 0) {
        pthread_mutex_unlock(&ix_hstore.lock);
        snprintf(r->note, sizeof r->note, "no snapshot yet (one every %.0f s)",
                 (double)info.interval_ns / 1e9);
        return 0;
    }
    r->now_ns = st->snaps[st->nsnaps - 1].t_ns;
    size_t w0 = 0;
    while (w0 + 1 < st->nsnaps && st->snaps[w0].t_ns < r->now_ns - window_ns)
        w0++;
    int nw = (int)(st->nsnaps - w0);
    r->snapshots = nw;
    r->covered_ns = r->now_ns - st->snaps[w0].t_ns;
    int64_t *t = malloc((size_t)nw * sizeof *t);
    struct cand *c = NULL;
    size_t nc = 0;
    int rc = t ? find_candidates(st, w0, &c, &nc) : INTROSPECT_ENOMEM;
    if (t)
        for (int j = 0; j < nw; j++)
            t[j] = st->snaps[w0 + (size_t)j].t_ns;
    pthread_mutex_unlock(&ix_hstore.lock);
    if (rc) {
        free(t);
        return INTROSPECT_ENOMEM;
    }
    struct ix_trend_params prm;
    ix_trend_params_default(&prm, 1);
    if (nw < prm.min_points)
        snprintf(r->note, sizeof r->note,
                 "%d snapshot%s in the window: at least %d are needed to judge a trend", nw,
                 nw == 1 ? "" : "s", prm.min_points);
    struct ix_trend_point *pts = malloc((size_t)nw * sizeof *pts);
    r->suspects = calloc(nc + 1, sizeof *r->suspects);
    if (!pts || !r->suspects) {
        free(pts);
        free(t);
        free_cands(c, nc);
        ix_leak_report_free(r);
        return INTROSPECT_ENOMEM;
    }
    for (size_t i = 0; i < nc; i++) {
        if (c[i].kind == IX_SERIES_PROCESS) {
            if (r->nprocess < (int)(sizeof r->process / sizeof r->process[0]))
                judge_process(&c[i], t, nw, pts, &r->process[r->nprocess++]);
        } else if (judge(&c[i], t, nw, r->heap_rate, pts, &r->suspects[r->nsuspects])) {
            r->nsuspects++;
        }
    }
    qsort(r->suspects, (size_t)r->nsuspects, sizeof *r->suspects, by_rank);
    for (int i = 0; i < r->nsuspects; i++)
        r->suspects[i].rank = i + 1;
    free(pts);
    free(t);
    free_cands(c, nc);
    return 0;
}

void ix_leak_report_free(struct ix_leak_report *r)
{
    for (int i = 0; i < r->nsuspects; i++) {
        free(r->suspects[i].t_ns);
        free(r->suspects[i].values);
    }
    free(r->suspects);
    for (int i = 0; i < r->nprocess; i++) {
        free(r->process[i].t_ns);
        free(r->process[i].values);
    }
    r->suspects = NULL;
    r->nsuspects = r->nprocess = 0;
}
