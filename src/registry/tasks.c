/* The task registry: cheap enough to wrap every request.
 *
 * Live tasks sit in slots, allocated in chunks of 1024 that are never freed
 * (so a stale handle or a concurrent reader never touches freed memory).
 * The hot path takes no lock and no atomic read-modify-write:
 *  - each thread keeps a small cache of free slot indices (up to 64), refilled
 *    from and spilled to a global free list in batches of 32 under a mutex;
 *  - counters (started, ended, deadline misses per kind) live in per-thread
 *    blocks written by their owner only and summed when read; a block is
 *    adopted by a new thread when its owner exits, so sums stay exact;
 *  - timestamps come from CLOCK_MONOTONIC_COARSE (a vDSO read of the last
 *    tick, no hardware counter): ages and deadline checks have the tick's
 *    resolution (clock_getres, typically 1-4 ms), which is plenty for tasks.
 * Kinds and state texts are interned into small fixed tables (a scan with
 * strcmp; insertions take a mutex, once per text).
 *
 * Readers (/debug/pprof/tasks, /metrics) scan the slots. A slot's seq is odd
 * while begin fills it and changes with every reuse, so a reader that copied
 * a slot while it was ended and begun again notices and skips it.
 *
 * A handle is (gen << 32 | slot + 1): ending checks the generation, so a
 * double end or a use after end returns INTROSPECT_EINVAL instead of
 * touching another task (two threads ending the same handle at the same
 * instant is not detected). The live cap is approximate by the slots
 * sitting in thread caches (at most 64 per thread). */
#include "registry/tasks.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "introspect.h"
#include "sampling/threads/list.h"
#include "stack/unwind.h"
#include "trace/recorder.h"

#define CHUNK 1024
#define MAX_CHUNKS (1000000 / CHUNK + 2)
#define TCACHE_MAX 64
#define TCACHE_BATCH 32

struct slot {
    _Atomic uint32_t seq;
    _Atomic uint32_t gen;
    _Atomic int live;
    _Atomic int32_t state;
    _Atomic int32_t tid;
    _Atomic int missed;
    _Atomic int32_t kind;
    _Atomic int32_t stack;
    _Atomic int64_t begin_ns;
    _Atomic int64_t deadline_ns;
    _Atomic uint64_t name[IX_TASK_NAME_LEN / 8]; /* words, so readers race benignly */
};

/* The seqlock's fences. ThreadSanitizer does not model fences, so under it
 * a read-modify-write of seq gives the same ordering (at some cost). */
#if defined(__SANITIZE_THREAD__)
#define SEQ_WRITE_BEGIN(s, seq) atomic_fetch_add_explicit(&(s)->seq, 1, memory_order_acq_rel)
#define SEQ_READ_END(s) atomic_fetch_add_explicit(&(s)->seq, 0, memory_order_acq_rel)
#else
#define SEQ_WRITE_BEGIN(s, seq)                                             \
    do {                                                                    \
        atomic_store_explicit(&(s)->seq, (seq) + 1, memory_order_relaxed); \
        atomic_thread_fence(memory_order_release);                          \
    } while (0)
#define SEQ_READ_END(s) \
    (atomic_thread_fence(memory_order_acquire), atomic_load_explicit(&(s)->seq, memory_order_relaxed))
#endif

#define RELAXED(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define SET_RELAXED(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)
/* Single-writer increment: no lock prefix, readers see a relaxed value. */
#define BUMP(x) SET_RELAXED(x, RELAXED(x) + 1)

/* Per-thread counters, written by their owner only. */
struct counters {
    struct counters *next;
    _Atomic int in_use;
    _Atomic uint64_t sample, dropped;
    _Atomic uint64_t started[IX_TASK_MAX_KINDS];
    _Atomic uint64_t ended[IX_TASK_MAX_KINDS];
    _Atomic uint64_t missed[IX_TASK_MAX_KINDS];
};

struct tcache {
    struct counters *ctr;
    uint32_t n;
    uint32_t idx[TCACHE_MAX];
    pid_t tid;
};

struct intern {
    _Atomic int n;
    int cap;
    const char *_Atomic text[IX_TASK_MAX_STATES];
};

static struct slot *_Atomic g_chunks[MAX_CHUNKS];
static _Atomic uint32_t g_nchunks;
static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER; /* g_free, chunk growth */
static uint32_t *g_free;
static size_t g_nfree, g_free_cap;
static _Atomic unsigned g_max_tasks = 65536;
static _Atomic unsigned g_stack_every;
static struct counters *_Atomic g_counters; /* list of every block, never freed */
static _Atomic uint64_t g_missed_seen[IX_TASK_MAX_KINDS]; /* counted by readers */
static pthread_key_t g_exit_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct intern g_kinds = {.cap = IX_TASK_MAX_KINDS};
static struct intern g_states = {.cap = IX_TASK_MAX_STATES};
static pthread_mutex_t g_intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_stack_table g_task_stacks = IX_STACK_TABLE_INIT(1024);
static __thread struct tcache tc;

static inline int64_t coarse_ns(void) { return ix_mono_coarse_ns(); }

int64_t introspect_monotonic_ns(void) { return ix_mono_ns(); }

void ix_tasks_configure(unsigned stack_every, unsigned max_tasks)
{
    atomic_store(&g_stack_every, stack_every);
    if (max_tasks)
        atomic_store(&g_max_tasks, max_tasks);
}

unsigned ix_tasks_stack_every(void) { return atomic_load(&g_stack_every); }
struct ix_stack_table *ix_task_stacks(void) { return &g_task_stacks; }

/* ---- interning ---- */

static int intern_find(struct intern *t, const char *s)
{
    int n = atomic_load_explicit(&t->n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const char *x = atomic_load_explicit(&t->text[i], memory_order_relaxed);
        if (x[0] == s[0] && strcmp(x, s) == 0)
            return i;
    }
    return -1;
}

/* Index of s, added when new; `other` (index) when the table is full. */
static int intern(struct intern *t, const char *s, const char *other)
{
    int i = intern_find(t, s);
    if (i >= 0)
        return i;
    pthread_mutex_lock(&g_intern_lock);
    i = intern_find(t, s);
    if (i < 0) {
        int n = atomic_load(&t->n);
        char *copy = n < t->cap - 1 ? strndup(s, 63) : NULL; /* last entry: "other" */
        if (!copy) {
            i = intern_find(t, other);
            if (i < 0 && n < t->cap) {
                atomic_store(&t->text[n], other);
                atomic_store_explicit(&t->n, n + 1, memory_order_release);
                i = n;
            }
        } else {
            atomic_store(&t->text[n], copy);
            atomic_store_explicit(&t->n, n + 1, memory_order_release);
            i = n;
        }
    }
    pthread_mutex_unlock(&g_intern_lock);
    return i < 0 ? 0 : i;
}

int ix_task_nkinds(void) { return atomic_load(&g_kinds.n); }

const char *ix_task_kind_name(int k)
{
    return k >= 0 && k < atomic_load(&g_kinds.n) ? atomic_load(&g_kinds.text[k]) : "?";
}

const char *ix_task_state_name(int s)
{
    return s >= 0 && s < atomic_load(&g_states.n) ? atomic_load(&g_states.text[s]) : "";
}

const char *ix_task_state_label(int s) { return s < 0 ? "none" : ix_task_state_name(s); }

/* ---- slots, the free pool and thread caches ---- */

static inline struct slot *slot_at(uint32_t idx)
{
    struct slot *c = atomic_load_explicit(&g_chunks[idx / CHUNK], memory_order_acquire);
    return &c[idx % CHUNK];
}

/* Add a chunk's slots to the pool while under the cap (pool lock held): 0,
 * INTROSPECT_ELIMIT at the cap, or INTROSPECT_ENOMEM. */
static int grow_locked(void)
{
    uint32_t n = atomic_load(&g_nchunks);
    if ((uint64_t)n * CHUNK >= atomic_load(&g_max_tasks) || n >= MAX_CHUNKS)
        return INTROSPECT_ELIMIT;
    size_t need = (size_t)(n + 1) * CHUNK;
    if (need > g_free_cap) {
        uint32_t *f = realloc(g_free, need * sizeof *f);
        if (!f)
            return INTROSPECT_ENOMEM;
        g_free = f;
        g_free_cap = need;
    }
    struct slot *c = calloc(CHUNK, sizeof *c);
    if (!c)
        return INTROSPECT_ENOMEM;
    for (int i = 0; i < CHUNK; i++)
        atomic_init(&c[i].stack, -1);
    atomic_store_explicit(&g_chunks[n], c, memory_order_release);
    atomic_store_explicit(&g_nchunks, n + 1, memory_order_release);
    for (int i = CHUNK; i-- > 0;)
        g_free[g_nfree++] = n * CHUNK + (uint32_t)i;
    return 0;
}

static void spill(uint32_t keep)
{
    pthread_mutex_lock(&g_pool_lock);
    while (tc.n > keep && g_nfree < g_free_cap)
        g_free[g_nfree++] = tc.idx[--tc.n];
    pthread_mutex_unlock(&g_pool_lock);
}

/* Thread exit: return cached slots, let another thread adopt the counters. */
static void on_thread_exit(void *v)
{
    (void)v;
    spill(0);
    if (tc.ctr)
        atomic_store(&tc.ctr->in_use, 0);
    tc.ctr = NULL;
}

static void init_once(void) { pthread_key_create(&g_exit_key, on_thread_exit); }

/* First use on a thread: adopt a free counter block or add one. */
static struct counters *thread_setup(void)
{
    pthread_once(&g_once, init_once);
    struct counters *c;
    for (c = atomic_load(&g_counters); c; c = c->next) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&c->in_use, &zero, 1))
            break;
    }
    if (!c) {
        size_t size = (sizeof *c + 63) & ~(size_t)63; /* own cache lines */
        c = aligned_alloc(64, size);
        if (!c)
            return NULL;
        memset(c, 0, size);
        atomic_init(&c->in_use, 1);
        c->next = atomic_load(&g_counters);
        while (!atomic_compare_exchange_weak(&g_counters, &c->next, c))
            ;
    }
    tc.ctr = c;
    pthread_setspecific(g_exit_key, (void *)1);
    return c;
}

static int refill(void)
{
    pthread_mutex_lock(&g_pool_lock);
    if (g_nfree == 0)
        grow_locked();
    while (g_nfree > 0 && tc.n < TCACHE_BATCH)
        tc.idx[tc.n++] = g_free[--g_nfree];
    pthread_mutex_unlock(&g_pool_lock);
    return tc.n ? 0 : INTROSPECT_ELIMIT; /* at the cap, or out of memory */
}

static inline introspect_task *handle_of(uint32_t idx, uint32_t gen)
{
    return (introspect_task *)(uintptr_t)(((uint64_t)gen << 32) | (idx + 1));
}

/* The slot of a live handle, or NULL. */
static inline struct slot *slot_of(const introspect_task *t)
{
    uint64_t h = (uint64_t)(uintptr_t)t;
    uint32_t idx = (uint32_t)h - 1, gen = (uint32_t)(h >> 32);
    if (!(uint32_t)h || idx / CHUNK >= atomic_load_explicit(&g_nchunks, memory_order_acquire))
        return NULL;
    struct slot *s = slot_at(idx);
    if (RELAXED(s->gen) != gen || !RELAXED(s->live))
        return NULL;
    return s;
}

__attribute__((noinline)) static int capture_stack(struct counters *c)
{
    unsigned every = atomic_load_explicit(&g_stack_every, memory_order_relaxed);
    if (!every)
        return -1;
    uint64_t n = RELAXED(c->sample);
    SET_RELAXED(c->sample, n + 1);
    if (n % every)
        return -1;
    uintptr_t pcs[IX_STACK_MAX_FRAMES];
    int depth = ix_unwind_here(pcs, IX_STACK_MAX_FRAMES, 2); /* from begin's caller */
    return ix_stack_intern(&g_task_stacks, pcs, depth, 1);
}

/* ---- trace hooks: out of line, reached only while a trace runs ---- */

__attribute__((noinline, cold)) static void trace_begin(uint64_t id, int kind, const char *name,
                                                        int64_t deadline)
{
    struct ix_trace_rec r = {.type = IX_TR_TASK_BEGIN, .id = id, .a = kind, .b = deadline};
    if (name)
        strncpy(r.name, name, IX_TRACE_NAME - 1);
    ix_trace_emit(&r);
    ix_trace_set_current_task(id);
}

__attribute__((noinline, cold)) static void trace_end(uint64_t id, int kind, int state,
                                                      int overdue)
{
    struct ix_trace_rec r = {.type = IX_TR_TASK_END, .id = id, .a = kind, .b = state,
                             .c = (uint16_t)overdue};
    ix_trace_emit(&r);
    if (ix_trace_current_task() == id)
        ix_trace_set_current_task(0);
}

__attribute__((noinline, cold)) static void trace_bind(uint64_t id, int bind)
{
    if (bind) {
        struct ix_trace_rec r = {.type = IX_TR_TASK_BIND, .id = id};
        ix_trace_emit(&r);
        ix_trace_set_current_task(id);
    } else if (ix_trace_current_task() == id) {
        ix_trace_set_current_task(0);
    }
}

/* ---- public API ---- */

__attribute__((noinline)) int introspect_task_begin(const char *kind, const char *name,
                                                    int64_t timeout_ns, introspect_task **out)
{
    if (!out)
        return INTROSPECT_EINVAL;
    *out = NULL;
    if (timeout_ns < 0)
        return INTROSPECT_EINVAL;
    struct counters *c = tc.ctr ? tc.ctr : thread_setup();
    if (!c)
        return INTROSPECT_ENOMEM;
    if (!tc.n && refill()) {
        BUMP(c->dropped);
        return INTROSPECT_ELIMIT;
    }
    uint32_t idx = tc.idx[--tc.n];
    int k = intern(&g_kinds, kind && *kind ? kind : "task", "other");
    struct slot *s = slot_at(idx);
    int64_t now = coarse_ns();
    uint32_t seq = RELAXED(s->seq);
    SEQ_WRITE_BEGIN(s, seq);
    uint32_t gen = RELAXED(s->gen) + 1;
    SET_RELAXED(s->gen, gen);
    SET_RELAXED(s->kind, k);
    SET_RELAXED(s->begin_ns, now);
    SET_RELAXED(s->deadline_ns, timeout_ns ? now + timeout_ns : 0);
    SET_RELAXED(s->state, -1);
    SET_RELAXED(s->tid, 0);
    SET_RELAXED(s->missed, 0);
    union {
        char c[IX_TASK_NAME_LEN];
        uint64_t w[IX_TASK_NAME_LEN / 8];
    } nm;
    size_t i = 0;
    if (name)
        for (; i < IX_TASK_NAME_LEN - 1 && name[i]; i++)
            nm.c[i] = name[i];
    memset(nm.c + i, 0, IX_TASK_NAME_LEN - i);
    for (size_t w = 0; w < IX_TASK_NAME_LEN / 8 && w * 8 <= i; w++)
        SET_RELAXED(s->name[w], nm.w[w]);
    SET_RELAXED(s->stack, capture_stack(c));
    SET_RELAXED(s->live, 1);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
    BUMP(c->started[k]);
    *out = handle_of(idx, gen);
    if (ix_trace_on())
        trace_begin((uint64_t)(uintptr_t)*out, k, name, RELAXED(s->deadline_ns));
    return 0;
}

int introspect_task_set_deadline(introspect_task *t, int64_t deadline_mono_ns)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s || deadline_mono_ns < 0)
        return INTROSPECT_EINVAL;
    SET_RELAXED(s->deadline_ns, deadline_mono_ns);
    return 0;
}

int introspect_task_set_state(introspect_task *t, const char *state)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    SET_RELAXED(s->state, state ? intern(&g_states, state, "other") : -1);
    return 0;
}

int introspect_task_bind_thread(introspect_task *t, int bind)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    if (bind && !tc.tid)
        tc.tid = ix_gettid();
    SET_RELAXED(s->tid, bind ? tc.tid : 0);
    if (ix_trace_on())
        trace_bind((uint64_t)(uintptr_t)t, bind);
    return 0;
}

int introspect_task_end(introspect_task *t)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    struct counters *c = tc.ctr ? tc.ctr : thread_setup();
    if (!c)
        return INTROSPECT_ENOMEM;
    SET_RELAXED(s->live, 0);
    int kind = RELAXED(s->kind);
    int64_t dl = RELAXED(s->deadline_ns);
    int overdue = dl && coarse_ns() > dl;
    /* A reader may have counted this miss already (when it saw the task overdue). */
    if (overdue && !atomic_exchange_explicit(&s->missed, 1, memory_order_relaxed))
        BUMP(c->missed[kind]);
    if (ix_trace_on())
        trace_end((uint64_t)(uintptr_t)t, kind, RELAXED(s->state), overdue);
    BUMP(c->ended[kind]);
    if (tc.n == TCACHE_MAX)
        spill(TCACHE_MAX - TCACHE_BATCH);
    tc.idx[tc.n++] = (uint32_t)(uintptr_t)t - 1;
    return 0;
}

/* ---- readers ---- */

void ix_task_kind_totals(int kind, struct ix_task_totals *t)
{
    memset(t, 0, sizeof *t);
    if (kind < 0 || kind >= IX_TASK_MAX_KINDS)
        return;
    for (struct counters *c = atomic_load(&g_counters); c; c = c->next) {
        t->started += RELAXED(c->started[kind]);
        t->ended += RELAXED(c->ended[kind]);
        t->deadline_misses += RELAXED(c->missed[kind]);
    }
    t->deadline_misses += RELAXED(g_missed_seen[kind]);
}

uint64_t ix_tasks_dropped(void)
{
    uint64_t d = 0;
    for (struct counters *c = atomic_load(&g_counters); c; c = c->next)
        d += RELAXED(c->dropped);
    return d;
}

/* Copy a live slot consistently: 0 when copied, INTROSPECT_EBUSY when it was
 * being written or is not live. */
static int read_slot(struct slot *s, uint32_t idx, struct ix_task_info *out)
{
    uint32_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    if ((s1 & 1) || !atomic_load_explicit(&s->live, memory_order_relaxed))
        return INTROSPECT_EBUSY;
    out->slot = idx;
    out->gen = atomic_load_explicit(&s->gen, memory_order_relaxed);
    out->kind = RELAXED(s->kind);
    out->state = atomic_load_explicit(&s->state, memory_order_relaxed);
    out->tid = atomic_load_explicit(&s->tid, memory_order_relaxed);
    out->stack = RELAXED(s->stack);
    out->begin_ns = RELAXED(s->begin_ns);
    out->deadline_ns = atomic_load_explicit(&s->deadline_ns, memory_order_relaxed);
    uint64_t w[IX_TASK_NAME_LEN / 8];
    for (size_t i = 0; i < IX_TASK_NAME_LEN / 8; i++)
        w[i] = RELAXED(s->name[i]);
    memcpy(out->name, w, sizeof out->name);
    out->name[sizeof out->name - 1] = '\0';
    return SEQ_READ_END(s) == s1 ? 0 : INTROSPECT_EBUSY;
}

static int older_first(const void *a, const void *b)
{
    const struct ix_task_info *x = a, *y = b;
    return (x->begin_ns > y->begin_ns) - (x->begin_ns < y->begin_ns);
}

int ix_tasks_snapshot(struct ix_task_snapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    snap->now_ns = coarse_ns();
    uint32_t nchunks = atomic_load_explicit(&g_nchunks, memory_order_acquire);
    size_t cap = 256;
    snap->tasks = malloc(cap * sizeof *snap->tasks);
    if (!snap->tasks)
        return INTROSPECT_ENOMEM;
    for (uint32_t idx = 0; idx < nchunks * CHUNK; idx++) {
        struct slot *s = slot_at(idx);
        if (!atomic_load_explicit(&s->live, memory_order_relaxed))
            continue;
        if (snap->n == cap) {
            struct ix_task_info *m = realloc(snap->tasks, cap * 2 * sizeof *m);
            if (!m)
                break;
            snap->tasks = m;
            cap *= 2;
        }
        struct ix_task_info *ti = &snap->tasks[snap->n];
        if (read_slot(s, idx, ti))
            continue;
        snap->n++;
        /* A leaked task never ends: count its miss when it is first seen overdue. */
        if (ti->deadline_ns && snap->now_ns > ti->deadline_ns &&
            !atomic_exchange_explicit(&s->missed, 1, memory_order_relaxed))
            atomic_fetch_add_explicit(&g_missed_seen[ti->kind], 1, memory_order_relaxed);
    }
    qsort(snap->tasks, snap->n, sizeof *snap->tasks, older_first);
    return 0;
}

void ix_tasks_snapshot_free(struct ix_task_snapshot *s)
{
    free(s->tasks);
    s->tasks = NULL;
    s->n = 0;
}

int ix_tasks_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    ix_tasks_configure(cfg->task_stack_every, cfg->max_tasks);
    return 0;
}
