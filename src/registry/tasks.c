/* The task registry: cheap enough to wrap every request.
 *
 * Live tasks sit in slots, allocated in chunks of 1024 that are never freed
 * (so a stale handle or a concurrent reader never touches freed memory).
 * Free slots are kept on sharded lock-free stacks (Treiber stacks whose head
 * packs an ABA tag with the slot index); a thread uses the shard it was
 * assigned round-robin, and an ended task's slot goes back to its chunk's
 * shard. Counters (started, ended, deadline misses) are per shard and per
 * kind, summed when read, so begin/end touch no cache line shared with
 * other shards. Kinds and state texts are interned into small fixed tables
 * (lookups are a scan with strcmp; insertions take a mutex, once per text).
 *
 * Readers (/debug/pprof/tasks, /metrics) scan the slots. A slot's seq is odd
 * while begin fills it and changes with every reuse, so a reader that copied
 * a slot while it was ended and begun again notices and skips it.
 *
 * A handle is (gen << 32 | slot + 1): ending checks the generation, so a
 * double end or a use after end returns INTROSPECT_EINVAL instead of
 * touching another task. */
#include "registry/tasks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "introspect.h"
#include "sampling/threadlist.h"
#include "sampling/unwind.h"

#define NSHARDS 8
#define CHUNK 1024
#define MAX_CHUNKS (1000000 / CHUNK + 2)

struct slot {
    _Atomic uint32_t seq;
    _Atomic uint32_t gen;
    _Atomic uint32_t next_free; /* index + 1 */
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

struct shard {
    _Atomic uint64_t head; /* tag << 32 | (index + 1) */
    _Atomic uint64_t sample;
    _Atomic uint64_t dropped;
    _Atomic uint64_t started[IX_TASK_MAX_KINDS];
    _Atomic uint64_t ended[IX_TASK_MAX_KINDS];
    _Atomic uint64_t missed[IX_TASK_MAX_KINDS];
} __attribute__((aligned(64)));

struct intern {
    _Atomic int n;
    int cap;
    const char *_Atomic text[IX_TASK_MAX_STATES];
};

static struct shard g_shards[NSHARDS];
static struct slot *_Atomic g_chunks[MAX_CHUNKS];
static unsigned char g_chunk_shard[MAX_CHUNKS];
static _Atomic uint32_t g_nchunks;
static pthread_mutex_t g_grow = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned g_max_tasks = 65536;
static _Atomic unsigned g_stack_every;
static _Atomic unsigned g_next_shard;
static struct intern g_kinds = {.cap = IX_TASK_MAX_KINDS};
static struct intern g_states = {.cap = IX_TASK_MAX_STATES};
static pthread_mutex_t g_intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_stack_table g_task_stacks = IX_STACK_TABLE_INIT(1024);
static __thread int tls_shard = -1;
static __thread pid_t tls_tid;

int64_t introspect_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

/* ---- slots and free lists ---- */

static inline struct slot *slot_at(uint32_t idx)
{
    struct slot *c = atomic_load_explicit(&g_chunks[idx / CHUNK], memory_order_acquire);
    return &c[idx % CHUNK];
}

static inline int my_shard(void)
{
    if (tls_shard < 0)
        tls_shard = (int)(atomic_fetch_add(&g_next_shard, 1) % NSHARDS);
    return tls_shard;
}

static void push_chain(struct shard *sh, uint32_t first, uint32_t last)
{
    uint64_t head = atomic_load_explicit(&sh->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&slot_at(last)->next_free, (uint32_t)head, memory_order_relaxed);
        uint64_t nh = (((head >> 32) + 1) << 32) | (first + 1);
        if (atomic_compare_exchange_weak_explicit(&sh->head, &head, nh, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

static int pop(struct shard *sh, uint32_t *idx)
{
    uint64_t head = atomic_load_explicit(&sh->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (!top)
            return -1;
        uint32_t next = atomic_load_explicit(&slot_at(top - 1)->next_free, memory_order_relaxed);
        uint64_t nh = (((head >> 32) + 1) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&sh->head, &head, nh, memory_order_acquire,
                                                  memory_order_acquire)) {
            *idx = top - 1;
            return 0;
        }
    }
}

/* Add a chunk to shard sh while under the cap. */
static int grow(int sh)
{
    int rc = -1;
    pthread_mutex_lock(&g_grow);
    uint32_t n = atomic_load(&g_nchunks);
    if ((uint64_t)n * CHUNK < atomic_load(&g_max_tasks) && n < MAX_CHUNKS) {
        struct slot *c = calloc(CHUNK, sizeof *c);
        if (c) {
            for (int i = 0; i < CHUNK; i++) {
                atomic_init(&c[i].next_free, i + 1 < CHUNK ? n * CHUNK + i + 2 : 0);
                atomic_init(&c[i].stack, -1);
            }
            g_chunk_shard[n] = (unsigned char)sh;
            atomic_store_explicit(&g_chunks[n], c, memory_order_release);
            atomic_store_explicit(&g_nchunks, n + 1, memory_order_release);
            push_chain(&g_shards[sh], n * CHUNK, n * CHUNK + CHUNK - 1);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&g_grow);
    return rc;
}

static int alloc_slot(int sh, uint32_t *idx)
{
    if (pop(&g_shards[sh], idx) == 0)
        return 0;
    if (grow(sh) == 0 && pop(&g_shards[sh], idx) == 0)
        return 0;
    for (int i = 1; i < NSHARDS; i++) /* at the cap: take a free slot elsewhere */
        if (pop(&g_shards[(sh + i) % NSHARDS], idx) == 0)
            return 0;
    return -1;
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
    if (atomic_load_explicit(&s->gen, memory_order_relaxed) != gen ||
        !atomic_load_explicit(&s->live, memory_order_relaxed))
        return NULL;
    return s;
}

__attribute__((noinline)) static int capture_stack(struct shard *sh)
{
    unsigned every = atomic_load_explicit(&g_stack_every, memory_order_relaxed);
    if (!every || atomic_fetch_add_explicit(&sh->sample, 1, memory_order_relaxed) % every)
        return -1;
    uintptr_t pcs[IX_STACK_MAX_FRAMES];
    int n = ix_unwind_here(pcs, IX_STACK_MAX_FRAMES, 2); /* from begin's caller */
    return ix_stack_intern(&g_task_stacks, pcs, n, 1);
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
    int sh = my_shard();
    struct shard *shp = &g_shards[sh];
    uint32_t idx;
    if (alloc_slot(sh, &idx)) {
        atomic_fetch_add_explicit(&shp->dropped, 1, memory_order_relaxed);
        return INTROSPECT_ELIMIT;
    }
    int k = intern(&g_kinds, kind && *kind ? kind : "task", "other");
    struct slot *s = slot_at(idx);
    int64_t now = introspect_monotonic_ns();
    uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    SEQ_WRITE_BEGIN(s, seq);
    uint32_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->gen, gen, memory_order_relaxed);
    SET_RELAXED(s->kind, k);
    SET_RELAXED(s->begin_ns, now);
    atomic_store_explicit(&s->deadline_ns, timeout_ns ? now + timeout_ns : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&s->state, -1, memory_order_relaxed);
    atomic_store_explicit(&s->tid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->missed, 0, memory_order_relaxed);
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
    SET_RELAXED(s->stack, capture_stack(shp));
    atomic_store_explicit(&s->live, 1, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
    atomic_fetch_add_explicit(&shp->started[k], 1, memory_order_relaxed);
    *out = handle_of(idx, gen);
    return 0;
}

int introspect_task_set_deadline(introspect_task *t, int64_t deadline_mono_ns)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s || deadline_mono_ns < 0)
        return INTROSPECT_EINVAL;
    atomic_store_explicit(&s->deadline_ns, deadline_mono_ns, memory_order_relaxed);
    return 0;
}

int introspect_task_set_state(introspect_task *t, const char *state)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    atomic_store_explicit(&s->state, state ? intern(&g_states, state, "other") : -1,
                          memory_order_relaxed);
    return 0;
}

int introspect_task_bind_thread(introspect_task *t, int bind)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    if (bind && !tls_tid)
        tls_tid = ix_gettid();
    atomic_store_explicit(&s->tid, bind ? tls_tid : 0, memory_order_relaxed);
    return 0;
}

int introspect_task_end(introspect_task *t)
{
    if (!t)
        return 0;
    struct slot *s = slot_of(t);
    if (!s)
        return INTROSPECT_EINVAL;
    int one = 1;
    if (!atomic_compare_exchange_strong_explicit(&s->live, &one, 0, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return INTROSPECT_EINVAL;
    struct shard *shp = &g_shards[my_shard()];
    int64_t dl = atomic_load_explicit(&s->deadline_ns, memory_order_relaxed);
    if (dl && introspect_monotonic_ns() > dl &&
        !atomic_exchange_explicit(&s->missed, 1, memory_order_relaxed))
        atomic_fetch_add_explicit(&shp->missed[RELAXED(s->kind)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shp->ended[RELAXED(s->kind)], 1, memory_order_relaxed);
    uint32_t idx = (uint32_t)(uintptr_t)t - 1;
    push_chain(&g_shards[g_chunk_shard[idx / CHUNK]], idx, idx);
    return 0;
}

/* ---- readers ---- */

void ix_task_kind_totals(int kind, struct ix_task_totals *t)
{
    memset(t, 0, sizeof *t);
    if (kind < 0 || kind >= IX_TASK_MAX_KINDS)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        t->started += atomic_load_explicit(&g_shards[i].started[kind], memory_order_relaxed);
        t->ended += atomic_load_explicit(&g_shards[i].ended[kind], memory_order_relaxed);
        t->deadline_misses += atomic_load_explicit(&g_shards[i].missed[kind], memory_order_relaxed);
    }
}

uint64_t ix_tasks_dropped(void)
{
    uint64_t d = 0;
    for (int i = 0; i < NSHARDS; i++)
        d += atomic_load_explicit(&g_shards[i].dropped, memory_order_relaxed);
    return d;
}

/* Copy a live slot consistently; 0 when copied. */
static int read_slot(struct slot *s, uint32_t idx, struct ix_task_info *out)
{
    uint32_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    if ((s1 & 1) || !atomic_load_explicit(&s->live, memory_order_relaxed))
        return -1;
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
    return SEQ_READ_END(s) == s1 ? 0 : -1;
}

static int older_first(const void *a, const void *b)
{
    const struct ix_task_info *x = a, *y = b;
    return (x->begin_ns > y->begin_ns) - (x->begin_ns < y->begin_ns);
}

int ix_tasks_snapshot(struct ix_task_snapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    snap->now_ns = introspect_monotonic_ns();
    uint32_t nchunks = atomic_load_explicit(&g_nchunks, memory_order_acquire);
    size_t cap = 256;
    snap->tasks = malloc(cap * sizeof *snap->tasks);
    if (!snap->tasks)
        return -1;
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
            atomic_fetch_add_explicit(&g_shards[0].missed[ti->kind], 1, memory_order_relaxed);
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
