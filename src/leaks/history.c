/* The history's module thread, its snapshots and their retention (the idea
 * is in leaks/history.h). A snapshot is gathered from the producers without
 * the history lock (it copies the heap sampler's buckets under the
 * sampler's lock, as every heap profile does), then committed under it:
 * each gathered series is compared with its newest value and only changes
 * are stored. */
#include "leaks/history.h"
#include "introspect.h"
#include "host/threads.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcstats/allocator.h"
#include "gcstats/fdtypes.h"
#include "gcstats/process.h"
#include "leaks/fd_stacks.h"
#include "leaks/leaks.h"
#include "leaks/store.h"
#include "registry/tasks.h"
#include "runtime.h"
#include "sampling/threads/create.h"
#include "util/clock.h"
#include "util/grow.h"
#include "util/hash.h"
#include "util/u64map.h"

struct ix_store ix_hstore = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_t g_thread;
static int g_thread_running;
static atomic_int g_enabled, g_quit;
static size_t g_budget;
static int64_t (*_Atomic g_clock)(void);
static uint64_t g_taken, g_dropped;
static double g_last_us;
static pthread_mutex_t g_snap_lock = PTHREAD_MUTEX_INITIALIZER; /* one snapshot at a time */

int64_t ix_history_now_ns(void)
{
    int64_t (*c)(void) = atomic_load(&g_clock);
    return c ? c() : ix_real_ns();
}

/* ---- gathering: one item per series, from the producers ---- */

struct item {
    uint8_t kind;
    uint64_t key;
    const uintptr_t *pcs;
    int npcs;
    struct ix_hvals vals;
};

struct gather {
    struct item *it;
    size_t n, cap;
    int oom;
};

static void add_item(struct gather *g, int kind, uint64_t key, const uintptr_t *pcs, int npcs,
                     uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3)
{
    if (ix_grow(&g->it, &g->cap, g->n + 1, sizeof *g->it)) {
        g->oom = 1;
        return;
    }
    g->it[g->n++] = (struct item){(uint8_t)kind, key, pcs, npcs, {{v0, v1, v2, v3}}};
}

static void gather(struct gather *g)
{
    struct ix_heap_record *r;
    size_t n;
    if (ix_heap_records(&r, &n) == 0) {
        /* The sampler keeps one bucket per (stack, block size), as Go does;
         * a leak is a stack, whatever sizes it allocates: one series per
         * stack (keyed by its frames' hash), summing its buckets. Records
         * come newest first: the series keeps the oldest bucket's frames
         * (same frames, never freed). A hash shared by two different stacks
         * leaves the later one keyed by its bucket's address. */
        struct ix_u64map by_stack = {0};
        for (size_t i = 0; i < n; i++) {
            uint64_t h = ix_hash_pcs(IX_HASH_INIT, r[i].pcs, r[i].npcs);
            int added;
            uint64_t *slot = ix_u64map_put(&by_stack, h, &added);
            if (!slot) {
                g->oom = 1;
                break;
            }
            struct item *it = added ? NULL : &g->it[*slot];
            if (it && it->npcs == r[i].npcs &&
                !memcmp(it->pcs, r[i].pcs, (size_t)r[i].npcs * sizeof *r[i].pcs)) {
                it->pcs = r[i].pcs;
                it->vals.v[0] += r[i].allocs;
                it->vals.v[1] += r[i].alloc_bytes;
                it->vals.v[2] += r[i].frees;
                it->vals.v[3] += r[i].free_bytes;
                continue;
            }
            if (added)
                *slot = g->n;
            add_item(g, IX_SERIES_HEAP, added ? h : (uint64_t)(uintptr_t)r[i].pcs, r[i].pcs,
                     r[i].npcs, r[i].allocs, r[i].alloc_bytes, r[i].frees, r[i].free_bytes);
        }
        ix_u64map_free(&by_stack);
        free(r);
    } else {
        g->oom = 1;
    }
    struct ix_stack_table *st = ix_thread_create_stacks();
    uint32_t ns = ix_stack_size(st, NULL);
    for (uint32_t id = 0; id < ns; id++) {
        uint64_t created = 0;
        uintptr_t pcs[1];
        ix_stack_get(st, (int)id, pcs, 1, &created);
        uint64_t exited = ix_thread_create_exited_at((int)id);
        add_item(g, IX_SERIES_THREADS, id, NULL, 0, created > exited ? created - exited : 0, created,
                 exited, 0);
    }
    struct ix_task_summary ts;
    if (ix_task_summary_load(&ts) == 0)
        for (int k = 0; k < ts.nkinds && k < IX_TASK_MAX_KINDS; k++)
            add_item(g, IX_SERIES_TASKS, (uint64_t)k, NULL, 0, ts.kinds[k].live, 0, 0, 0);
    ix_task_summary_free(&ts);
    uint64_t fds[IX_FD_NTYPES];
    int64_t nfd = ix_fd_count_types(fds);
    if (nfd >= 0)
        for (int t = 0; t < IX_FD_NTYPES; t++)
            add_item(g, IX_SERIES_FDS, (uint64_t)t, NULL, 0, fds[t], 0, 0, 0);
    /* Descriptors by creating stack (INTROSPECT_FD_STACKS): keyed apart
     * from the types (IX_FD_STACK_KEY | stack id); v = live, created, closed. */
    if (ix_fd_stacks_enabled()) {
        struct ix_stack_table *fs = ix_fd_stacks();
        uint32_t nf = ix_stack_size(fs, NULL);
        for (uint32_t id = 0; id < nf; id++) {
            uint64_t created = 0;
            uintptr_t pcs[1];
            ix_stack_get(fs, (int)id, pcs, 1, &created);
            uint64_t closed = ix_fd_stack_closed((int)id);
            add_item(g, IX_SERIES_FDS, IX_FD_STACK_KEY | id, NULL, 0,
                     created > closed ? created - closed : 0, created, closed, 0);
        }
    }
    struct ix_process_stats ps;
    if (ix_process_stats_read(&ps) == 0) {
        add_item(g, IX_SERIES_PROCESS, IX_PROC_RSS, NULL, 0, ps.rss_bytes, 0, 0, 0);
        add_item(g, IX_SERIES_PROCESS, IX_PROC_THREADS, NULL, 0, ps.threads, 0, 0, 0);
    }
    if (nfd >= 0)
        add_item(g, IX_SERIES_PROCESS, IX_PROC_FDS, NULL, 0, (uint64_t)nfd, 0, 0, 0);
    double inuse, mapped;
    ix_allocator_headline(&inuse, &mapped);
    if (inuse >= 0)
        add_item(g, IX_SERIES_PROCESS, IX_PROC_ALLOC_INUSE, NULL, 0, (uint64_t)inuse, 0, 0, 0);
    if (mapped >= 0)
        add_item(g, IX_SERIES_PROCESS, IX_PROC_ALLOC_MAPPED, NULL, 0, (uint64_t)mapped, 0, 0, 0);
}

/* ---- the store (under ix_hstore.lock) ---- */

#define SERIES_BYTES (sizeof(struct ix_hseries) + 2 * sizeof(struct ix_hvals) + 4 * sizeof(uint64_t))

static size_t snap_bytes(const struct ix_hsnap *s)
{
    return sizeof *s + s->n * sizeof *s->e;
}

static int series_id(struct ix_store *st, const struct item *it, uint32_t *id)
{
    uint64_t k = ((uint64_t)it->kind << 56) ^ it->key;
    int added;
    uint64_t *slot = ix_u64map_put(&st->index, k, &added);
    if (!slot)
        return INTROSPECT_ENOMEM;
    if (!added) {
        *id = (uint32_t)*slot;
        return 0;
    }
    size_t cap = st->series_cap;
    if (ix_grow(&st->series, &st->series_cap, st->nseries + 1, sizeof *st->series))
        goto oom;
    if (st->series_cap != cap) { /* grow the dense arrays alongside */
        struct ix_hvals *b = realloc(st->base, st->series_cap * sizeof *b);
        if (b)
            st->base = b;
        struct ix_hvals *c = b ? realloc(st->cur, st->series_cap * sizeof *c) : NULL;
        if (c)
            st->cur = c;
        if (!b || !c) {
            st->series_cap = cap;
            goto oom;
        }
    }
    *id = (uint32_t)st->nseries;
    st->series[*id] = (struct ix_hseries){it->kind, 0, it->key, it->pcs, it->npcs};
    memset(&st->base[*id], 0, sizeof st->base[*id]);
    memset(&st->cur[*id], 0, sizeof st->cur[*id]);
    st->nseries++;
    st->bytes += SERIES_BYTES;
    *slot = *id;
    return 0;
oom:
    /* the key stays in the index pointing nowhere useful: make it harmless */
    *slot = UINT32_MAX;
    return INTROSPECT_ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct ix_hentry *)a)->series, y = ((const struct ix_hentry *)b)->series;
    return (x > y) - (x < y);
}

static void apply(struct ix_hvals *state, const struct ix_hsnap *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        state[s->e[i].series] = s->e[i].vals;
}

/* Drop snapshot i. The oldest folds into the base; any other folds its
 * changes into its successor (whose own values win). */
static int drop_snap(struct ix_store *st, size_t i)
{
    struct ix_hsnap *s = &st->snaps[i];
    if (i == 0) {
        apply(st->base, s);
    } else if (i + 1 < st->nsnaps) {
        struct ix_hsnap *nx = &st->snaps[i + 1];
        struct ix_hentry *m = malloc((s->n + nx->n + 1) * sizeof *m);
        if (!m)
            return INTROSPECT_ENOMEM;
        uint32_t a = 0, b = 0, k = 0;
        while (a < s->n || b < nx->n) {
            if (b < nx->n && (a == s->n || nx->e[b].series <= s->e[a].series)) {
                if (a < s->n && nx->e[b].series == s->e[a].series)
                    a++;
                m[k++] = nx->e[b++];
            } else {
                m[k++] = s->e[a++];
            }
        }
        st->bytes -= snap_bytes(nx);
        free(nx->e);
        nx->e = m;
        nx->n = k;
        st->bytes += snap_bytes(nx);
    }
    st->bytes -= snap_bytes(s);
    free(s->e);
    memmove(&st->snaps[i], &st->snaps[i + 1], (st->nsnaps - i - 1) * sizeof *st->snaps);
    st->nsnaps--;
    return 0;
}

/* Tiers, then the budget. */
static void retain(struct ix_store *st)
{
    if (!st->nsnaps)
        return;
    int64_t iv = st->interval_ns, now = st->snaps[st->nsnaps - 1].t_ns;
    int64_t fine_from = now - IX_HISTORY_FINE * iv;
    int64_t keep_from = fine_from - (int64_t)IX_HISTORY_COARSE * iv;
    while (st->nsnaps > 1 && st->snaps[0].t_ns < keep_from)
        drop_snap(st, 0);
    /* In the coarse tier, keep one snapshot per IX_HISTORY_COARSE_EVERY intervals. */
    int64_t step = IX_HISTORY_COARSE_EVERY * iv - iv / 2;
    size_t kept = 0;
    for (size_t i = 1; i + 1 < st->nsnaps && st->snaps[i].t_ns < fine_from;) {
        if (st->snaps[i].t_ns - st->snaps[kept].t_ns < step) {
            if (drop_snap(st, i))
                break;
        } else {
            kept = i++;
        }
    }
    while (st->bytes > g_budget && st->nsnaps > 2) {
        drop_snap(st, 0);
        g_dropped++;
    }
}

static int commit(struct ix_store *st, struct gather *g, int64_t t)
{
    struct ix_hentry *e = malloc((g->n + st->nseries + 1) * sizeof *e);
    unsigned char *seen = calloc(st->nseries + g->n + 1, 1);
    int rc = 0;
    if (!e || !seen) {
        free(e);
        free(seen);
        return INTROSPECT_ENOMEM;
    }
    uint32_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        uint32_t id;
        if (series_id(st, &g->it[i], &id) || id == UINT32_MAX) {
            rc = INTROSPECT_ENOMEM;
            continue;
        }
        seen[id] = 1;
        if (memcmp(&st->cur[id], &g->it[i].vals, sizeof g->it[i].vals)) {
            st->cur[id] = g->it[i].vals;
            e[k++] = (struct ix_hentry){id, g->it[i].vals};
        }
    }
    /* Series absent now (a fd type no longer open...) fall to zero. */
    static const struct ix_hvals zero;
    for (uint32_t id = 0; id < st->nseries; id++)
        if (!seen[id] && st->series[id].kind != IX_SERIES_HEAP &&
            memcmp(&st->cur[id], &zero, sizeof zero)) {
            st->cur[id] = zero;
            e[k++] = (struct ix_hentry){id, zero};
        }
    free(seen);
    qsort(e, k, sizeof *e, cmp_entry);
    if (ix_grow(&st->snaps, &st->snaps_cap, st->nsnaps + 1, sizeof *st->snaps)) {
        free(e);
        return INTROSPECT_ENOMEM;
    }
    struct ix_hentry *fit = realloc(e, (k + 1) * sizeof *e);
    struct ix_hsnap s = {t, k, fit ? fit : e};
    if (st->nsnaps == 0) { /* the first snapshot is the base */
        memcpy(st->base, st->cur, st->nseries * sizeof *st->base);
        s.n = 0;
        free(s.e);
        s.e = NULL;
    }
    st->snaps[st->nsnaps++] = s;
    st->bytes += snap_bytes(&s);
    retain(st);
    return rc;
}

int ix_history_snapshot_now(void)
{
    if (!atomic_load(&g_enabled))
        return INTROSPECT_ENOTSTARTED;
    ix_heap_exclude_begin(); /* whichever thread asks (a test's), our work is not sampled */
    pthread_mutex_lock(&g_snap_lock);
    long long t0 = ix_mono_ns();
    struct gather g = {0};
    gather(&g);
    int64_t now = ix_history_now_ns();
    pthread_mutex_lock(&ix_hstore.lock);
    int rc = g.oom ? INTROSPECT_ENOMEM : 0;
    if (commit(&ix_hstore, &g, now))
        rc = INTROSPECT_ENOMEM;
    g_taken++;
    g_last_us = (double)(ix_mono_ns() - t0) / 1e3;
    pthread_mutex_unlock(&ix_hstore.lock);
    free(g.it);
    ix_leaks_after_snapshot();
    pthread_mutex_unlock(&g_snap_lock);
    ix_heap_exclude_end();
    return rc;
}

void ix_history_reset(void)
{
    pthread_mutex_lock(&g_snap_lock);
    pthread_mutex_lock(&ix_hstore.lock);
    struct ix_store *st = &ix_hstore;
    for (size_t i = 0; i < st->nsnaps; i++)
        free(st->snaps[i].e);
    free(st->snaps);
    free(st->series);
    free(st->base);
    free(st->cur);
    ix_u64map_free(&st->index);
    int64_t iv = st->interval_ns;
    pthread_mutex_t lock = st->lock;
    memset(st, 0, sizeof *st);
    st->lock = lock;
    st->interval_ns = iv;
    g_taken = g_dropped = 0;
    pthread_mutex_unlock(&ix_hstore.lock);
    ix_leaks_reset();
    pthread_mutex_unlock(&g_snap_lock);
}

void ix_history_set_clock(int64_t (*now_ns)(void)) { atomic_store(&g_clock, now_ns); }

/* ---- the module thread ---- */

/* Sleep one interval in 50 ms steps; 0 when it passed, 1 when told to quit
 * (its own flag: a start that fails after the modules started stops them
 * without the module-wide stopping flag). */
static int wait_interval(void)
{
    struct timespec step = {0, 50 * 1000000L};
    for (int64_t left = ix_hstore.interval_ns; left > 0; left -= step.tv_nsec) {
        if (atomic_load(&g_quit))
            return 1;
        nanosleep(&step, NULL);
    }
    return atomic_load(&g_quit);
}

static void *history_main(void *arg)
{
    (void)arg;
    ix_heap_exclude_begin(); /* the module's own allocations stay out of heap profiles */
    while (wait_interval() == 0)
        if (!atomic_load(&g_clock)) /* a test's clock: the test takes the snapshots */
            ix_history_snapshot_now();
    ix_heap_exclude_end();
    return NULL;
}

int ix_history_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    if (!cfg->history_interval_s || !cfg->history_budget)
        return 0;
    pthread_mutex_lock(&ix_hstore.lock);
    ix_hstore.interval_ns = (int64_t)cfg->history_interval_s * 1000000000LL;
    g_budget = cfg->history_budget;
    pthread_mutex_unlock(&ix_hstore.lock);
    ix_leaks_configure(cfg->leak_report);
    ix_fd_stacks_enable(cfg->fd_stacks);
    atomic_store(&g_enabled, 1);
    atomic_store(&g_quit, 0);
    /* Born with every asynchronous signal blocked, named, out of heap profiles. */
    if (ix_module_thread_create(&g_thread, 0, history_main, NULL, "introspect-hist")) {
        atomic_store(&g_enabled, 0);
        snprintf(why, whylen, "leak history: cannot create its thread");
        return INTROSPECT_ESYS;
    }
    g_thread_running = 1;
    return 0;
}

void ix_history_stop(void)
{
    atomic_store(&g_quit, 1);
    if (g_thread_running)
        pthread_join(g_thread, NULL);
    g_thread_running = 0;
    atomic_store(&g_enabled, 0);
}

void ix_history_get_info(struct ix_history_info *o)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_lock(&ix_hstore.lock);
    struct ix_store *st = &ix_hstore;
    o->enabled = atomic_load(&g_enabled);
    o->interval_ns = st->interval_ns;
    o->budget_bytes = g_budget;
    o->used_bytes = st->bytes + st->index.cap * (2 * sizeof(uint64_t) + 1);
    o->snapshots = st->nsnaps;
    o->series = st->nseries;
    if (st->nsnaps) {
        o->oldest_ns = st->snaps[0].t_ns;
        o->newest_ns = st->snaps[st->nsnaps - 1].t_ns;
    }
    o->max_span_ns = (int64_t)(IX_HISTORY_FINE + IX_HISTORY_COARSE) * st->interval_ns;
    o->taken = g_taken;
    o->dropped = g_dropped;
    o->last_snapshot_us = g_last_us;
    pthread_mutex_unlock(&ix_hstore.lock);
}

int ix_history_heap_at(int64_t t_ns, struct ix_heap_record **out, size_t *n, int64_t *at_ns)
{
    *out = NULL;
    *n = 0;
    if (!atomic_load(&g_enabled))
        return INTROSPECT_ENOTSTARTED;
    pthread_mutex_lock(&ix_hstore.lock);
    struct ix_store *st = &ix_hstore;
    int rc = INTROSPECT_EINVAL; /* nothing retained that old */
    if (!st->nsnaps || t_ns < st->snaps[0].t_ns - st->interval_ns / 2)
        goto out;
    size_t best = 0;
    for (size_t i = 1; i < st->nsnaps; i++)
        if (llabs(st->snaps[i].t_ns - t_ns) < llabs(st->snaps[best].t_ns - t_ns))
            best = i;
    struct ix_hvals *state = malloc((st->nseries + 1) * sizeof *state);
    struct ix_heap_record *r = malloc((st->nseries + 1) * sizeof *r);
    rc = INTROSPECT_ENOMEM;
    if (!state || !r) {
        free(state);
        free(r);
        goto out;
    }
    memcpy(state, st->base, st->nseries * sizeof *state);
    for (size_t i = 0; i <= best; i++)
        apply(state, &st->snaps[i]);
    size_t k = 0;
    for (size_t id = 0; id < st->nseries; id++)
        if (st->series[id].kind == IX_SERIES_HEAP && state[id].v[0])
            r[k++] = (struct ix_heap_record){st->series[id].pcs, st->series[id].npcs,
                                             state[id].v[0], state[id].v[1], state[id].v[2],
                                             state[id].v[3], 0 /* sizes are not kept */, 0};
    free(state);
    *out = r;
    *n = k;
    *at_ns = st->snaps[best].t_ns;
    rc = 0;
out:
    pthread_mutex_unlock(&ix_hstore.lock);
    return rc;
}
