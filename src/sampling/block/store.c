/* Block profile store. Recording happens after a wait that already took
 * at least microseconds, at most once per sampled wait, so a mutex is cheap
 * enough (Go's runtime takes a lock here too). (pool, stack) pairs are
 * interned in a stack/stack_table.h table, whose ids are dense and stable:
 * they index the values below and the snapshots that ?seconds=N subtracts. */
#include "sampling/block/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "introspect.h"
#include "labels/labels.h"
#include "stack/stack_table.h"
#include "util/random.h"
#include "util/clock.h"

/* Values per interned (pool, stack) id, under g_lock. */
struct values {
    double count; /* scaled contentions (fractional before rounding) */
    int64_t delay;
};

static _Atomic int64_t g_rate = IX_BLOCK_DEFAULT_RATE;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_stack_table g_stacks =
    IX_STACK_TABLE_INIT_DEPTH(IX_BLOCK_MAX_STACKS, IX_BLOCK_DEPTH);
static struct values g_values[IX_BLOCK_MAX_STACKS];
static size_t g_n; /* ids below this have values (under g_lock) */

int64_t ix_block_rate(void) { return atomic_load_explicit(&g_rate, memory_order_relaxed); }

int64_t introspect_block_profile_set_rate(int64_t rate_ns)
{
    if (rate_ns < 0)
        return INTROSPECT_EINVAL;
    return atomic_exchange(&g_rate, rate_ns);
}

/* The deprecated name: an alias, so both symbols stay exported. */
int64_t introspect_set_block_profile_rate(int64_t rate_ns)
    __attribute__((alias("introspect_block_profile_set_rate")));

int ix_block_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    atomic_store(&g_rate, cfg->block_profile_rate);
    return 0;
}

/* One state per thread: no shared cache line on the hot path. */
static uint64_t rand64(void)
{
    static _Thread_local uint64_t s;
    if (!s)
        s = ix_rand_seed(&s);
    return ix_rand_next(&s);
}

int ix_block_sampled(int64_t ns, int64_t rate)
{
    if (rate <= 0)
        return 0;
    return rate <= ns || (int64_t)(rand64() % (uint64_t)rate) <= ns;
}


void ix_block_record(int pool, uint32_t labels, int64_t ns, int64_t rate, const uintptr_t *pcs,
                     int npcs)
{
    if (npcs <= 0 || pool < 0 || pool >= (1 << IX_BLOCK_POOL_BITS))
        return;
    if (labels >= IX_LABELSETS_MAX)
        labels = 0;
    int key = (int)(labels << IX_BLOCK_POOL_BITS) | pool;
    if (ns <= 0)
        ns = 1;
    pthread_mutex_lock(&g_lock);
    int id = ix_stack_intern_key(&g_stacks, key, pcs, npcs, 0);
    struct values *e = id >= 0 ? &g_values[id] : NULL;
    if (id >= 0 && (size_t)id >= g_n)
        g_n = (size_t)id + 1;
    if (!e) {
        /* counted by the table */
    } else if (ns < rate) { /* remove the sampling bias (Go CL 299991) */
        e->count += (double)rate / (double)ns;
        e->delay += rate;
    } else {
        e->count += 1;
        e->delay += ns;
    }
    pthread_mutex_unlock(&g_lock);
}

int ix_block_snapshot(struct ix_block_snap *s)
{
    memset(s, 0, sizeof *s);
    s->time_ns = ix_real_ns();
    s->count = malloc(IX_BLOCK_MAX_STACKS * sizeof *s->count);
    s->delay = malloc(IX_BLOCK_MAX_STACKS * sizeof *s->delay);
    if (!s->count || !s->delay) {
        ix_block_snap_free(s);
        return INTROSPECT_ENOMEM;
    }
    pthread_mutex_lock(&g_lock);
    s->n = g_n;
    for (size_t i = 0; i < g_n; i++) {
        /* As Go's BlockProfile: truncate, and never report a stack with 0. */
        int64_t c = (int64_t)g_values[i].count;
        s->count[i] = c > 0 ? c : 1;
        s->delay[i] = g_values[i].delay;
    }
    pthread_mutex_unlock(&g_lock);
    ix_stack_size(&g_stacks, &s->dropped);
    return 0;
}

void ix_block_snap_free(struct ix_block_snap *s)
{
    free(s->count);
    free(s->delay);
    memset(s, 0, sizeof *s);
}

int ix_block_profile(struct ix_profile *p, const struct ix_block_snap *now,
                     const struct ix_block_snap *base, const char *(*pool_name)(int slot))
{
    ix_profile_add_type(p, "contentions", "count");
    ix_profile_add_type(p, "delay", "nanoseconds");
    p->period_type = (struct ix_value_type){"contentions", "count"};
    p->period = 1;
    p->time_nanos = now->time_ns; /* as Go's delta: the end, with the duration */
    if (base)
        p->duration_nanos = now->time_ns - base->time_ns;
    int64_t rate = ix_block_rate();
    if (rate > 0)
        ix_profile_comment(p, "waits on instrumented pools, sampled at 1 per %lld ns of wait",
                           (long long)rate);
    else
        ix_profile_comment(p, "block profile off (rate 0): values recorded earlier only");
    uint64_t dropped = now->dropped - (base ? base->dropped : 0);
    if (dropped)
        ix_profile_comment(p, "%llu sampled waits dropped: more than %d distinct stacks",
                           (unsigned long long)dropped, IX_BLOCK_MAX_STACKS);
    for (size_t i = 0; i < now->n; i++) {
        int in_base = base && i < base->n;
        int64_t v[2] = {now->count[i] - (in_base ? base->count[i] : 0),
                        now->delay[i] - (in_base ? base->delay[i] : 0)};
        if (v[0] == 0 && v[1] == 0)
            continue;
        int npcs, key;
        const uintptr_t *pcs = ix_stack_frames(&g_stacks, (int)i, &npcs, &key);
        int pool = key & ((1 << IX_BLOCK_POOL_BITS) - 1);
        struct ix_label l[1 + IX_LABELS_MAX_PAIRS] = {{.key = "pool", .str = pool_name(pool)}};
        int nl = 1;
        const struct ix_labelset *ls = ix_labelset_get((uint32_t)key >> IX_BLOCK_POOL_BITS);
        for (int k = 0; ls && k < ls->n; k++)
            l[nl++] = (struct ix_label){ls->keys[k], ls->vals[k], 0, NULL};
        if (ix_profile_add(p, pcs, npcs, v, l, nl))
            return INTROSPECT_ENOMEM;
    }
    return p->oom ? INTROSPECT_ENOMEM : 0;
}
