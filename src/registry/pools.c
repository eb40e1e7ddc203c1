/* Pool instrumentation: every event is a few relaxed atomic adds on the
 * pool's own slot, so the hot path (acquire start/end, release) takes no lock
 * and never allocates. Relaxed ordering is enough: each figure is a counter
 * read on its own; a snapshot may see one event half-applied (WaitCount one
 * ahead of the histogram, in-use one ahead of open) and the readers clamp.
 *
 * Slots are allocated once and never freed, so a reader racing with
 * unregister reads a live (if stale) slot, and names stay valid for the
 * block profile's labels. A name registered again reuses its slot and its
 * counters continue, as Prometheus counters should. */
#include "registry/pools.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labels/labels.h"
#include "sampling/block/store.h"
#include "stack/unwind.h"
#include "trace/recorder.h"

struct introspect_pool {
    char name[IX_POOL_NAME_MAX];
    int idx;
    atomic_int live;
    _Atomic int64_t max_open, wait_threshold_ns;
    _Atomic int64_t open, in_use, pending, in_use_peak;
    _Atomic uint64_t acquires, waits, wait_ns, timeouts, cancelled, failed, opened;
    _Atomic uint64_t closed[IX_POOL_NCLOSE];
    _Atomic uint64_t buckets[IX_POOL_NBOUNDS + 1];
};

#define R memory_order_relaxed
#define DEFAULT_WAIT_THRESHOLD_NS 100000

const int64_t ix_pool_bounds_ns[IX_POOL_NBOUNDS] = {
    1000,      2000,      5000,      10000,      20000,      50000,      100000,     200000,
    500000,    1000000,   2000000,   5000000,    10000000,   20000000,   50000000,   100000000,
    200000000, 500000000, 1000000000, 2000000000, 5000000000, 10000000000,
};
const double ix_pool_bounds_s[IX_POOL_NBOUNDS] = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3,
    5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,  0.5,  1,    2,    5,    10,
};

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct introspect_pool *_Atomic g_slots[IX_POOL_MAX];
static atomic_int g_nslots;


int ix_pool_bucket(int64_t ns)
{
    int lo = 0, hi = IX_POOL_NBOUNDS; /* first bound >= ns, or NBOUNDS (+Inf) */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ns <= ix_pool_bounds_ns[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= IX_POOL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x20 || name[i] > 0x7e)
            return 0;
    return 1;
}

/* Under g_reg_lock: the slot holding name, or NULL. */
static struct introspect_pool *find_slot(const char *name)
{
    int n = atomic_load(&g_nslots);
    for (int i = 0; i < n; i++) {
        struct introspect_pool *p = atomic_load(&g_slots[i]);
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

static struct introspect_pool *new_slot(const char *name)
{
    int n = atomic_load(&g_nslots);
    if (n >= IX_POOL_MAX)
        return NULL;
    struct introspect_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    strcpy(p->name, name); /* length checked by valid_name */
    p->idx = n;
    atomic_store(&g_slots[n], p);
    atomic_store(&g_nslots, n + 1); /* publish after the slot is filled */
    return p;
}

int introspect_pool_register(const char *name, int64_t max_open, introspect_pool **out)
{
    if (!out || !valid_name(name) || max_open < 0)
        return INTROSPECT_EINVAL;
    pthread_mutex_lock(&g_reg_lock);
    int rc = 0;
    struct introspect_pool *p = find_slot(name);
    if (p && atomic_load(&p->live))
        rc = INTROSPECT_EEXIST;
    else if (!p && atomic_load(&g_nslots) >= IX_POOL_MAX)
        rc = INTROSPECT_ELIMIT;
    else if (!p && !(p = new_slot(name)))
        rc = INTROSPECT_ENOMEM;
    if (rc == 0) {
        /* Gauges describe the new pool; counters continue. */
        atomic_store(&p->open, 0);
        atomic_store(&p->in_use, 0);
        atomic_store(&p->pending, 0);
        atomic_store(&p->in_use_peak, 0);
        atomic_store(&p->max_open, max_open);
        atomic_store(&p->wait_threshold_ns, DEFAULT_WAIT_THRESHOLD_NS);
        atomic_store(&p->live, 1);
        *out = p;
    }
    pthread_mutex_unlock(&g_reg_lock);
    return rc;
}

void introspect_pool_unregister(introspect_pool *p)
{
    if (p)
        atomic_store(&p->live, 0);
}

int introspect_pool_set_max(introspect_pool *p, int64_t max_open)
{
    if (!p || max_open < 0)
        return INTROSPECT_EINVAL;
    atomic_store_explicit(&p->max_open, max_open, R);
    return 0;
}

int introspect_pool_set_wait_threshold(introspect_pool *p, int64_t ns)
{
    if (!p || ns < 0)
        return INTROSPECT_EINVAL;
    atomic_store_explicit(&p->wait_threshold_ns, ns, R);
    return 0;
}

int64_t introspect_pool_acquire_start(introspect_pool *p)
{
    if (!p)
        return INTROSPECT_EINVAL;
    atomic_fetch_add_explicit(&p->pending, 1, R);
    return ix_mono_ns();
}

static void note_in_use(introspect_pool *p)
{
    int64_t now = atomic_fetch_add_explicit(&p->in_use, 1, R) + 1;
    int64_t peak = atomic_load_explicit(&p->in_use_peak, R);
    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&p->in_use_peak, &peak, now, R, R))
        ;
}

static void note_wait(introspect_pool *p, int64_t ns)
{
    atomic_fetch_add_explicit(&p->waits, 1, R);
    atomic_fetch_add_explicit(&p->wait_ns, (uint64_t)ns, R);
    atomic_fetch_add_explicit(&p->buckets[ix_pool_bucket(ns)], 1, R);
}

/* While a trace runs: the acquire as a span, linked to the thread's task. */
__attribute__((noinline, cold)) static void trace_wait(const introspect_pool *p, int64_t token,
                                                       int outcome)
{
    int64_t now = ix_mono_ns();
    struct ix_trace_rec r = {.type = IX_TR_POOL_WAIT, .ts = token, .dur = now - token,
                             .id = ix_trace_current_task(), .a = p->idx, .b = outcome};
    ix_trace_emit(&r);
}

int introspect_pool_acquire_end(introspect_pool *p, int64_t token, int outcome, int waited)
{
    if (!p || token <= 0 || outcome < INTROSPECT_POOL_GOT || outcome > INTROSPECT_POOL_FAILED ||
        waited < INTROSPECT_POOL_WAIT_AUTO || waited > INTROSPECT_POOL_NOWAIT)
        return INTROSPECT_EINVAL;
    atomic_fetch_sub_explicit(&p->pending, 1, R);
    atomic_fetch_add_explicit(&p->acquires, 1, R);
    if (ix_trace_on())
        trace_wait(p, token, outcome);
    switch (outcome) {
    case INTROSPECT_POOL_GOT: note_in_use(p); break;
    case INTROSPECT_POOL_TIMEOUT: atomic_fetch_add_explicit(&p->timeouts, 1, R); break;
    case INTROSPECT_POOL_CANCELLED: atomic_fetch_add_explicit(&p->cancelled, 1, R); break;
    default: atomic_fetch_add_explicit(&p->failed, 1, R); break;
    }
    if (waited == INTROSPECT_POOL_NOWAIT)
        return 0; /* the common case needs no second clock read */
    int64_t ns = ix_mono_ns() - token;
    if (ns < 0)
        ns = 0;
    if (waited == INTROSPECT_POOL_WAIT_AUTO &&
        ns < atomic_load_explicit(&p->wait_threshold_ns, R))
        return 0;
    note_wait(p, ns);
    int64_t rate = ix_block_rate();
    if (rate > 0 && ix_block_sampled(ns, rate)) {
        /* Unwound here (not in a helper that could become a tail call) and
         * skipping this frame, so the stack starts in the pool's acquire. */
        uintptr_t pcs[IX_BLOCK_DEPTH];
        int n = ix_unwind_here(pcs, IX_BLOCK_DEPTH, 1);
        ix_block_record(p->idx, ix_labels_current(), ns, rate, pcs, n);
    }
    return 0;
}

int introspect_pool_release(introspect_pool *p)
{
    if (!p)
        return INTROSPECT_EINVAL;
    atomic_fetch_sub_explicit(&p->in_use, 1, R);
    return 0;
}

int introspect_pool_conn_opened(introspect_pool *p)
{
    if (!p)
        return INTROSPECT_EINVAL;
    atomic_fetch_add_explicit(&p->open, 1, R);
    atomic_fetch_add_explicit(&p->opened, 1, R);
    return 0;
}

int introspect_pool_conn_closed(introspect_pool *p, int reason)
{
    if (!p || reason < 0 || reason >= IX_POOL_NCLOSE)
        return INTROSPECT_EINVAL;
    atomic_fetch_sub_explicit(&p->open, 1, R);
    atomic_fetch_add_explicit(&p->closed[reason], 1, R);
    return 0;
}

static int64_t clamp0(int64_t v) { return v < 0 ? 0 : v; }

static void copy_stats(introspect_pool *p, introspect_pool_stats *o)
{
    memset(o, 0, sizeof *o);
    o->max_open = atomic_load_explicit(&p->max_open, R);
    o->open = clamp0(atomic_load_explicit(&p->open, R));
    o->in_use = clamp0(atomic_load_explicit(&p->in_use, R));
    o->idle = clamp0(o->open - o->in_use);
    o->pending = clamp0(atomic_load_explicit(&p->pending, R));
    o->in_use_peak = atomic_load_explicit(&p->in_use_peak, R);
    o->acquires = atomic_load_explicit(&p->acquires, R);
    o->waits = atomic_load_explicit(&p->waits, R);
    o->wait_ns = atomic_load_explicit(&p->wait_ns, R);
    o->timeouts = atomic_load_explicit(&p->timeouts, R);
    o->cancelled = atomic_load_explicit(&p->cancelled, R);
    o->failed = atomic_load_explicit(&p->failed, R);
    o->opened = atomic_load_explicit(&p->opened, R);
    for (int i = 0; i < IX_POOL_NCLOSE; i++)
        o->closed[i] = atomic_load_explicit(&p->closed[i], R);
}

int introspect_pool_stats_get(introspect_pool *p, introspect_pool_stats *out)
{
    if (!p || !out)
        return INTROSPECT_EINVAL;
    copy_stats(p, out);
    return 0;
}

size_t ix_pools_snapshot(struct ix_pool_snapshot *out, size_t max)
{
    size_t k = 0;
    int n = atomic_load(&g_nslots);
    for (int i = 0; i < n && k < max; i++) {
        struct introspect_pool *p = atomic_load(&g_slots[i]);
        if (!atomic_load(&p->live))
            continue;
        struct ix_pool_snapshot *s = &out[k++];
        memcpy(s->name, p->name, sizeof s->name);
        copy_stats(p, &s->st);
        for (int b = 0; b <= IX_POOL_NBOUNDS; b++)
            s->buckets[b] = atomic_load_explicit(&p->buckets[b], R);
    }
    return k;
}

const char *ix_pool_name(int idx)
{
    if (idx < 0 || idx >= atomic_load(&g_nslots))
        return "?";
    return atomic_load(&g_slots[idx])->name;
}
