/* The mutex profile (see sampling/block/mutex.h). */
#include "sampling/block/mutex.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "introspect.h"
#include "labels/labels.h"
#include "stack/stack_table.h"
#include "stack/unwind.h"
#include "trace/recorder.h"
#include "util/clock.h"
#include "util/random.h"

typedef int (*lock_fn)(void *);

/* glibc's exported __pthread_* aliases (compat versions, bound by .symver):
 * the real functions until dlsym has answered. */
#if defined(__x86_64__)
#define GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc's base symbol version for this architecture"
#endif
#define LIBC_ALIAS(local, name) \
    extern int local(void *); \
    __asm__(".symver " #local "," #name "@" GLIBC_BASE)
LIBC_ALIAS(ix_libc_mutex_lock, __pthread_mutex_lock);
LIBC_ALIAS(ix_libc_mutex_unlock, __pthread_mutex_unlock);
LIBC_ALIAS(ix_libc_rwlock_rdlock, __pthread_rwlock_rdlock);
LIBC_ALIAS(ix_libc_rwlock_wrlock, __pthread_rwlock_wrlock);
LIBC_ALIAS(ix_libc_rwlock_unlock, __pthread_rwlock_unlock);

enum { M_LOCK, M_UNLOCK, RW_RD, RW_WR, RW_UNLOCK, NREAL };
static _Atomic(lock_fn) g_real[NREAL] = {
    ix_libc_mutex_lock,    ix_libc_mutex_unlock,  ix_libc_rwlock_rdlock,
    ix_libc_rwlock_wrlock, ix_libc_rwlock_unlock,
};

static _Atomic int g_fraction;
static _Atomic uint64_t g_unattributed;
/* initial-exec: one %fs-relative load, not a __tls_get_addr call (the
 * library is linked or preloaded, so its TLS is in the static block). */
static __thread int t_recording __attribute__((tls_model("initial-exec")));
static __thread uint64_t t_rng __attribute__((tls_model("initial-exec")));

static struct ix_stack_table g_stacks = IX_STACK_TABLE_INIT(IX_MUTEX_MAX_STACKS);
static _Atomic uint64_t g_delay[IX_MUTEX_MAX_STACKS];

/* Per-lock slots, by address: waiters present, and the stack of the last
 * unlock that found waiters (under a sequence count: odd while written). */
#define NSLOTS 1024
#define SLOT_FRAMES 32
struct slot {
    _Atomic uintptr_t addr;
    _Atomic int waiting;
    _Atomic unsigned seq;
    int npcs;
    uintptr_t pcs[SLOT_FRAMES];
};
static struct slot g_slots[NSLOTS];

static struct slot *slot_of(const void *lock)
{
    uint64_t h = ((uint64_t)(uintptr_t)lock >> 3) * 0x9E3779B97F4A7C15ULL;
    return &g_slots[h >> 54];
}

static uint64_t rand64(void)
{
    if (!t_rng)
        t_rng = ix_rand_seed(&t_rng);
    return ix_rand_next(&t_rng);
}

/* An unlock that found waiters: leave its stack for them. */
__attribute__((noinline)) static void note_unlocker(struct slot *s, const void *lock)
{
    t_recording = 1;
    uintptr_t pcs[SLOT_FRAMES];
    int n = ix_unwind_here(pcs, SLOT_FRAMES, 2); /* from the unlock's caller */
    unsigned q = atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel); /* odd: writing */
    if (q & 1) { /* another unlocker is writing: leave it */
        atomic_fetch_sub_explicit(&s->seq, 1, memory_order_acq_rel);
    } else {
        atomic_store_explicit(&s->addr, (uintptr_t)lock, memory_order_relaxed);
        memcpy(s->pcs, pcs, (size_t)n * sizeof pcs[0]);
        s->npcs = n;
        atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
    }
    t_recording = 0;
}

/* A sampled wait of d ns: record it against the last unlocker's stack. */
__attribute__((noinline)) static void record_wait(struct slot *s, const void *lock, long long d,
                                                  int fraction)
{
    t_recording = 1;
    uintptr_t pcs[SLOT_FRAMES];
    int n = 0;
    for (int tries = 0; tries < 4; tries++) {
        unsigned q = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (q & 1)
            continue;
        uintptr_t a = atomic_load_explicit(&s->addr, memory_order_relaxed);
        n = s->npcs;
        if (n > SLOT_FRAMES)
            n = 0;
        memcpy(pcs, s->pcs, (size_t)n * sizeof pcs[0]);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) == q && a == (uintptr_t)lock)
            break;
        n = 0;
    }
    if (n > 0) {
        /* The waiter's own labels (its TLS; it could not change them while
         * it waited): the unlocker's stack, split by who was made to wait. */
        uint32_t labels = ix_labels_current();
        if (labels >= IX_LABELSETS_MAX)
            labels = 0;
        int id = ix_stack_intern_key(&g_stacks, (int)labels, pcs, n, (uint64_t)fraction);
        if (id >= 0 && id < IX_MUTEX_MAX_STACKS)
            atomic_fetch_add_explicit(&g_delay[id], (uint64_t)d * (uint64_t)fraction,
                                      memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&g_unattributed, 1, memory_order_relaxed);
    }
    t_recording = 0;
}

/* The contended path: wait in the real call, measure, maybe record. */
__attribute__((noinline, unused)) static int wait_lock(void *lock, int which, int fraction)
{
    struct slot *s = slot_of(lock);
    atomic_fetch_add_explicit(&s->waiting, 1, memory_order_relaxed);
    long long t0 = ix_mono_ns();
    int rc = atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock);
    long long d = ix_mono_ns() - t0;
    atomic_fetch_sub_explicit(&s->waiting, 1, memory_order_relaxed);
    if (ix_trace_on()) {
        t_recording = 1; /* the recorder takes no lock, but never recurse */
        struct ix_trace_rec r = {.type = IX_TR_MUTEX_WAIT, .ts = t0, .dur = d,
                                 .id = ix_trace_current_task(), .a = (int64_t)(uintptr_t)lock};
        ix_trace_emit(&r);
        t_recording = 0;
    }
    if (!fraction)
        return rc; /* traced only: the mutex profile is off */
    if (rc == 0 && (fraction == 1 || rand64() % (uint64_t)fraction == 0))
        record_wait(s, lock, d, fraction);
    return rc;
}

/* Uncontended unlock with the profile on: one load of the lock's slot (a
 * line only waiters write); this thread's TLS only when someone waits. */
__attribute__((noinline, unused)) static int unlock_noted(struct slot *s, void *lock, int which)
{
    if (!t_recording)
        note_unlocker(s, lock);
    return atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock);
}

__attribute__((always_inline, unused)) static inline int unlock_on(void *lock, int which)
{
    struct slot *s = slot_of(lock);
    if (atomic_load_explicit(&s->waiting, memory_order_relaxed) > 0)
        return unlock_noted(s, lock, which);
    return atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock);
}

/* The profile on: a trylock first; the clock and TLS only when it fails. */
__attribute__((noinline, unused)) static int lock_busy(void *lock, int which)
{
    int f = atomic_load_explicit(&g_fraction, memory_order_relaxed);
    if ((!f && !ix_trace_on()) || t_recording) /* turned off meanwhile; the module's own locks while it records */
        return atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock);
    return wait_lock(lock, which, f);
}

__attribute__((always_inline, unused)) static inline int lock_on(void *lock, int which)
{
    int rc = which == M_LOCK  ? pthread_mutex_trylock(lock)
             : which == RW_RD ? pthread_rwlock_tryrdlock(lock)
                              : pthread_rwlock_trywrlock(lock);
    if (__builtin_expect(rc != EBUSY, 1))
        return rc; /* taken (0), or an error a lock would give too */
    return lock_busy(lock, which);
}

/* Sanitizer builds leave the lock calls to the sanitizer's own interceptors
 * (as the heap interposer is compiled out there): under ASan, libraries'
 * constructors (gnutls) reached ours before the real functions were bound. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if !(defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                      \
      __has_feature(address_sanitizer) || __has_feature(thread_sanitizer))
/* The interposers: with the profile off, a load, a test and a tail call
 * to libc, and no frame of their own (the frame-pointer prologue the rest of
 * the library keeps would cost more than the rest of this path). */
#if defined(__GNUC__) && !defined(__clang__)
#define EXPORT __attribute__((visibility("default"), optimize("omit-frame-pointer")))
#else
#define EXPORT __attribute__((visibility("default")))
#endif
#define OFF(which, lock)                                                         \
    if (__builtin_expect(!atomic_load_explicit(&g_fraction, memory_order_relaxed), 1)) \
    return atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock)
/* Locks are measured for a running execution trace too (trace/recorder.h):
 * with both off, one more relaxed load. */
#define OFF_LOCK(which, lock)                                                        \
    if (__builtin_expect(!atomic_load_explicit(&g_fraction, memory_order_relaxed) &&  \
                             !ix_trace_on(),                                         \
                         1))                                                         \
    return atomic_load_explicit(&g_real[which], memory_order_relaxed)(lock)

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    OFF_LOCK(M_LOCK, m);
    return lock_on(m, M_LOCK);
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    OFF(M_UNLOCK, m);
    return unlock_on(m, M_UNLOCK);
}

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    OFF_LOCK(RW_RD, l);
    return lock_on(l, RW_RD);
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    OFF_LOCK(RW_WR, l);
    return lock_on(l, RW_WR);
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    OFF(RW_UNLOCK, l);
    return unlock_on(l, RW_UNLOCK);
}
#endif

int introspect_set_mutex_profile_fraction(int fraction)
{
    if (fraction < 0)
        return INTROSPECT_EINVAL;
    return atomic_exchange(&g_fraction, fraction);
}

int ix_mutex_prof_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    static const char *const names[NREAL] = {"pthread_mutex_lock", "pthread_mutex_unlock",
                                             "pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
                                             "pthread_rwlock_unlock"};
    for (int i = 0; i < NREAL; i++) {
        void *f = dlsym(RTLD_NEXT, names[i]);
        if (f)
            atomic_store(&g_real[i], (lock_fn)f);
    }
    if (cfg->mutex_fraction >= 0)
        atomic_store(&g_fraction, cfg->mutex_fraction);
    return 0;
}

uint64_t ix_mutex_unattributed(void) { return atomic_load(&g_unattributed); }

/* Every use of the stack table from outside the recording path runs
 * flagged as recording too: its own lock must never be profiled (a waiter
 * on it would record into the table whose lock it holds). */
int ix_mutex_snapshot(struct ix_mutex_snap *s)
{
    uint64_t dropped;
    t_recording = 1;
    int n = (int)ix_stack_size(&g_stacks, &dropped);
    s->n = n;
    s->count = calloc((size_t)n + 1, sizeof *s->count);
    s->delay = calloc((size_t)n + 1, sizeof *s->delay);
    if (!s->count || !s->delay) {
        ix_mutex_snap_free(s);
        t_recording = 0;
        return INTROSPECT_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        uintptr_t one[1];
        ix_stack_get(&g_stacks, i, one, 1, &s->count[i]);
        s->delay[i] = atomic_load_explicit(&g_delay[i], memory_order_relaxed);
    }
    t_recording = 0;
    return 0;
}

void ix_mutex_snap_free(struct ix_mutex_snap *s)
{
    free(s->count);
    free(s->delay);
    s->count = s->delay = NULL;
    s->n = 0;
}

int ix_mutex_profile(struct ix_profile *p, const struct ix_mutex_snap *now,
                     const struct ix_mutex_snap *base)
{
    ix_profile_add_type(p, "contentions", "count");
    ix_profile_add_type(p, "delay", "nanoseconds");
    p->period_type = (struct ix_value_type){"contentions", "count"};
    p->period = atomic_load(&g_fraction);
    p->default_type = 1;
    ix_profile_comment(p, "mutex profile fraction %d (1 in N contended waits recorded, "
                          "scaled by N); delay attributed to the stack that unlocked",
                       atomic_load(&g_fraction));
    ix_profile_comment(p, "waits without an unlocker's stack (not recorded): %llu",
                       (unsigned long long)atomic_load(&g_unattributed));
    for (int i = 0; i < now->n; i++) {
        uint64_t c = now->count[i], d = now->delay[i];
        if (base && i < base->n) {
            c -= base->count[i];
            d -= base->delay[i];
        }
        if (!c && !d)
            continue;
        uintptr_t pcs[IX_STACK_MAX_FRAMES];
        t_recording = 1;
        int n = ix_stack_get(&g_stacks, i, pcs, IX_STACK_MAX_FRAMES, NULL);
        t_recording = 0;
        int64_t v[2] = {(int64_t)c, (int64_t)d};
        int key = 0, nf;
        ix_stack_frames(&g_stacks, i, &nf, &key);
        struct ix_label l[IX_LABELS_MAX_PAIRS];
        int nl = 0;
        const struct ix_labelset *ls = ix_labelset_get((uint32_t)key);
        for (int k = 0; ls && k < ls->n; k++)
            l[nl++] = (struct ix_label){ls->keys[k], ls->vals[k], 0, NULL};
        int rc = ix_profile_add(p, pcs, n, v, nl ? l : NULL, nl);
        if (rc)
            return rc;
    }
    return 0;
}
