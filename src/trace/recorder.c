/* The trace recorder (see trace/recorder.h). */
#include "trace/recorder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"
#include "util/clock.h"

struct ring {
    struct ring *next;
    _Atomic int in_use;
    _Atomic int gen;
    _Atomic uint64_t head;
    _Atomic uint64_t dropped;
    size_t cap;                /* records at recs (mmap'd: no malloc on a host thread) */
    struct ix_trace_rec *recs;
};

_Atomic int ix_trace_flag;
static _Atomic int g_gen;         /* the running (or last) trace's generation */
static _Atomic int g_busy;        /* a trace is between begin and release */
static _Atomic size_t g_cap = 8192;
static struct ring *_Atomic g_rings; /* every ring, never freed */
static _Atomic uint64_t g_lost;   /* events of threads that could get no ring */
static _Atomic size_t g_bytes;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static __thread struct ring *t_ring;
static __thread uint64_t t_task;
static __thread int32_t t_tid;

static void on_exit_thread(void *v)
{
    struct ring *r = v;
    if (r)
        atomic_store(&r->in_use, 0);
    t_ring = NULL;
}

static void key_once(void) { pthread_key_create(&g_key, on_exit_thread); }

static void *map(size_t n, int populate)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* A free ring (adopted) or a new one. */
static struct ring *ring_get(void)
{
    struct ring *r;
    for (r = atomic_load(&g_rings); r; r = r->next) {
        int zero = 0;
        if (atomic_load_explicit(&r->in_use, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&r->in_use, &zero, 1))
            break;
    }
    if (!r) {
        r = map(sizeof *r, 0);
        if (!r)
            return NULL;
        atomic_init(&r->in_use, 1);
        atomic_init(&r->gen, -1);
        r->next = atomic_load(&g_rings);
        while (!atomic_compare_exchange_weak(&g_rings, &r->next, r))
            ;
    }
    pthread_once(&g_once, key_once);
    pthread_setspecific(g_key, r);
    t_ring = r;
    return r;
}

/* The owner's first event of a trace: empty the ring (resized if asked). */
static int ring_reset(struct ring *r, int gen)
{
    size_t cap = atomic_load_explicit(&g_cap, memory_order_relaxed);
    if (r->cap != cap) {
        struct ix_trace_rec *recs = map(cap * sizeof *recs, 1);
        if (!recs)
            return INTROSPECT_ENOMEM;
        if (r->recs) {
            munmap(r->recs, r->cap * sizeof *r->recs);
            atomic_fetch_sub(&g_bytes, r->cap * sizeof *r->recs);
        }
        r->recs = recs;
        r->cap = cap;
        atomic_fetch_add(&g_bytes, cap * sizeof *recs);
    }
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&r->gen, gen, memory_order_release);
    return 0;
}

void ix_trace_emit(struct ix_trace_rec *rec)
{
    int gen = atomic_load_explicit(&g_gen, memory_order_acquire);
    struct ring *r = t_ring ? t_ring : ring_get();
    if (!r || (atomic_load_explicit(&r->gen, memory_order_relaxed) != gen && ring_reset(r, gen))) {
        atomic_fetch_add_explicit(&g_lost, 1, memory_order_relaxed);
        return;
    }
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (h >= r->cap) { /* single writer: a plain increment */
        atomic_store_explicit(&r->dropped,
                              atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return;
    }
    if (!rec->ts)
        rec->ts = ix_mono_ns();
    if (!rec->tid) {
        if (!t_tid)
            t_tid = (int32_t)syscall(SYS_gettid);
        rec->tid = t_tid;
    }
    r->recs[h] = *rec;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

uint64_t ix_trace_current_task(void) { return t_task; }
void ix_trace_set_current_task(uint64_t id) { t_task = id; }

/* A child forked during a trace has no sampler thread and no reader: it
 * starts with recording off and free to trace. */
static void forked_child(void)
{
    atomic_store(&ix_trace_flag, 0);
    atomic_store(&g_busy, 0);
}

static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;
static void fork_once(void) { pthread_atfork(NULL, NULL, forked_child); }

int ix_trace_begin(size_t capacity)
{
    pthread_once(&g_fork_once, fork_once);
    int zero = 0;
    if (!atomic_compare_exchange_strong(&g_busy, &zero, 1))
        return INTROSPECT_EBUSY;
    atomic_store(&g_cap, capacity ? capacity : 8192);
    atomic_store(&g_lost, 0);
    int gen = atomic_fetch_add(&g_gen, 1) + 1;
    atomic_store_explicit(&ix_trace_flag, 1, memory_order_release);
    return gen;
}

void ix_trace_end(void)
{
    atomic_store(&ix_trace_flag, 0);
    /* A writer that read the flag just before it fell finishes its record
     * within microseconds; one that is preempted longer lands in the copy
     * or not at all (its head store is what publishes it). */
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
}

long ix_trace_collect(int gen, struct ix_trace_rec **out, uint64_t *dropped, int *rings)
{
    size_t total = 0;
    *dropped = atomic_load(&g_lost);
    *rings = 0;
    for (struct ring *r = atomic_load(&g_rings); r; r = r->next)
        if (atomic_load_explicit(&r->gen, memory_order_acquire) == gen)
            total += r->cap;
    *out = malloc((total ? total : 1) * sizeof **out);
    if (!*out)
        return INTROSPECT_ENOMEM;
    size_t n = 0;
    for (struct ring *r = atomic_load(&g_rings); r; r = r->next) {
        if (atomic_load_explicit(&r->gen, memory_order_acquire) != gen)
            continue;
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (h > r->cap)
            h = r->cap;
        if (n + h > total)
            h = total - n;
        memcpy(*out + n, r->recs, h * sizeof **out);
        n += h;
        *dropped += atomic_load_explicit(&r->dropped, memory_order_relaxed);
        (*rings)++;
    }
    return (long)n;
}

void ix_trace_release(void) { atomic_store(&g_busy, 0); }

size_t ix_trace_ring_bytes(void) { return atomic_load(&g_bytes); }
