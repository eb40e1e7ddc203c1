/* CPU profile sessions (see sampling/cpu/profiler.h). All of this runs on the
 * profiling thread; the signal side is sampling/cpu/handler.c. */
#include "sampling/cpu/profiler.h"
#include "introspect.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "util/clock.h"
#include "sampling/cpu/engine.h"
#include "sampling/cpu/perf_ring.h"
#include "sampling/cpu/sample_ring.h"
#include "sampling/cpu/handler.h"
#include "sampling/threads/list.h"
#include "stack/unwind.h"
#include "stack/unwind_tables.h"
#include "util/random.h"

#define RING_RECORDS 4096
#define RESCAN_NS 10000000LL /* new threads wait at most ~10 ms for their timer */
#define RENAME_EVERY 20      /* re-read thread names every 20 scans (~200 ms) */

struct thr {
    pid_t tid;
    int alive;
    struct ix_cpu_arm arm;
    char name[16];
    uint64_t periods;
};

/* The one profile session (one CPU profile at a time, g_busy guards it). */
static struct session {
    const struct ix_cpu_engine *engine;
    long hz, period_ns;
    int sig;
    struct ix_cpu_ring ring;
    struct thr *thr;
    size_t nthr, cap;
    pid_t *scan;
    size_t scancap;
    struct ix_profile prof;
    long long mono0, ends_ns, last_scan;
    unsigned scans;
    int64_t real0_ns;
    struct rusage ru0;
    uint64_t rng;
    uint64_t arm_failures, fallbacks, signalled;
    char foreign[240]; /* set when the signal has another owner: perf rings only */
    struct ix_cpu_perf_stats perf; /* samples read from the perf engine's rings */
} g_cpu;

static _Atomic int g_busy;
static _Atomic long long g_ends_ns;
static _Atomic uint64_t t_profiles, t_samples, t_periods, t_drops, t_overruns, t_threads;
static const char *_Atomic t_engine = "";

static int engine_is_perf(const struct ix_cpu_engine *e)
{
    return e == &ix_cpu_engine_perf || e == &ix_cpu_engine_perf_signal;
}

static uint64_t next_rand(void)
{
    return ix_rand_next(&g_cpu.rng);
}

static int cmp_tid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static struct thr *find_thr(pid_t tid)
{
    size_t lo = 0, hi = g_cpu.nthr;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g_cpu.thr[mid].tid == tid)
            return &g_cpu.thr[mid];
        if (g_cpu.thr[mid].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Arm one thread; a thread the perf engine cannot take (fd limit) gets a
 * timer instead. Randomizing the first expiry keeps short-lived threads from
 * being systematically under-counted. */
static void arm_thread(struct thr *t)
{
    if (!g_cpu.engine->per_thread)
        return;
    long first = 1 + (long)(next_rand() % (uint64_t)g_cpu.period_ns);
    int sig = g_cpu.foreign[0] ? 0 : g_cpu.sig;
    int rc = g_cpu.engine->arm(t->tid, g_cpu.period_ns, first, sig, &t->arm);
    if (rc == 0 && g_cpu.engine == &ix_cpu_engine_perf && t->arm.kind == IX_ARM_PERF)
        g_cpu.signalled++; /* its ring could not be mapped */
    if (rc && rc != -ESRCH && engine_is_perf(g_cpu.engine) && sig) {
        rc = ix_cpu_engine_timer.arm(t->tid, g_cpu.period_ns, first, g_cpu.sig, &t->arm);
        if (rc == 0)
            g_cpu.fallbacks++;
    }
    if (rc == -ESRCH)
        t->alive = 0;
    else if (rc)
        g_cpu.arm_failures++;
}

static void add_record(const struct ix_cpu_rec *rec, void *arg);

/* A thread's samples still in its perf ring go into the profile first. */
static void release_thread(struct thr *t)
{
    ix_cpu_perf_ring_drain(&t->arm, add_record, NULL, &g_cpu.perf);
    ix_cpu_disarm(&t->arm);
}

static void drain_rings(void)
{
    for (size_t i = 0; i < g_cpu.nthr; i++)
        if (g_cpu.thr[i].alive)
            ix_cpu_perf_ring_drain(&g_cpu.thr[i].arm, add_record, NULL, &g_cpu.perf);
}

static int list_threads(size_t *n)
{
    for (;;) {
        int got = ix_thread_list(g_cpu.scan, (int)g_cpu.scancap);
        if (got < 0)
            return -1;
        if ((size_t)got <= g_cpu.scancap) {
            *n = (size_t)got;
            return 0;
        }
        size_t cap = (size_t)got * 2;
        pid_t *p = realloc(g_cpu.scan, cap * sizeof *p);
        if (!p)
            return -1;
        g_cpu.scan = p;
        g_cpu.scancap = cap;
    }
}

/* Merge the sorted tids of /proc/self/task into the sorted thread table:
 * new threads are armed, vanished ones released (their names are kept for
 * the samples still in the ring). */
static void rescan(void)
{
    size_t n;
    if (list_threads(&n))
        return;
    qsort(g_cpu.scan, n, sizeof *g_cpu.scan, cmp_tid);
    ix_unwind_tables_update(); /* objects dlopened since the last scan */
    size_t need = g_cpu.nthr + n;
    if (need > g_cpu.cap) {
        struct thr *p = realloc(g_cpu.thr, need * sizeof *p);
        if (!p)
            return;
        g_cpu.thr = p;
        g_cpu.cap = need;
    }
    int rename = g_cpu.scans++ % RENAME_EVERY == 0;
    size_t old = g_cpu.nthr, i = 0, j = 0;
    for (; i < old; i++) {
        struct thr *t = &g_cpu.thr[i];
        while (j < n && g_cpu.scan[j] < t->tid) /* a new thread: append, sort below */
            j++;
        if (j < n && g_cpu.scan[j] == t->tid) {
            if (!t->alive) { /* tid reused */
                t->alive = 1;
                ix_thread_name(t->tid, t->name, sizeof t->name);
                arm_thread(t);
            } else if (rename) {
                char name[16];
                ix_thread_name(t->tid, name, sizeof name);
                if (name[0])
                    memcpy(t->name, name, sizeof name);
            }
            j++;
        } else if (t->alive) {
            release_thread(t);
            t->alive = 0;
        }
    }
    for (j = 0; j < n; j++) {
        if (find_thr(g_cpu.scan[j]))
            continue;
        struct thr *t = &g_cpu.thr[g_cpu.nthr++];
        memset(t, 0, sizeof *t);
        t->tid = g_cpu.scan[j];
        t->alive = 1;
        t->arm.fd = -1;
        ix_thread_name(t->tid, t->name, sizeof t->name);
        arm_thread(t);
        /* keep the table sorted for find_thr (insertion: new threads are few) */
        for (size_t k = g_cpu.nthr - 1; k > 0 && g_cpu.thr[k - 1].tid > g_cpu.thr[k].tid; k--) {
            struct thr tmp = g_cpu.thr[k];
            g_cpu.thr[k] = g_cpu.thr[k - 1];
            g_cpu.thr[k - 1] = tmp;
        }
    }
    g_cpu.last_scan = ix_mono_ns();
}

static void add_record(const struct ix_cpu_rec *rec, void *arg)
{
    (void)arg;
    struct thr *t = find_thr(rec->tid);
    char name[16] = "";
    if (t) {
        t->periods += (uint64_t)rec->weight;
        memcpy(name, t->name, sizeof name);
    } else {
        ix_thread_name(rec->tid, name, sizeof name);
    }
    int64_t values[2] = {rec->weight, (int64_t)rec->weight * g_cpu.period_ns};
    struct ix_label labels[2] = {
        {"thread", name, 0, NULL},
        {"tid", NULL, rec->tid, NULL},
    };
    ix_profile_add(&g_cpu.prof, rec->pcs, rec->npcs > 0 ? rec->npcs : 0, values, labels, 2);
}

static const struct ix_cpu_engine *engine_named(const char *name)
{
    if (!strcmp(name, "perf"))
        return &ix_cpu_engine_perf;
    if (!strcmp(name, "perf-signal"))
        return &ix_cpu_engine_perf_signal;
    if (!strcmp(name, "timer"))
        return &ix_cpu_engine_timer;
    if (!strcmp(name, "itimer"))
        return &ix_cpu_engine_itimer;
    return NULL;
}

/* auto: the most precise engine that works here. */
static const struct ix_cpu_engine *choose_engine(const char *want, int sig, char *why,
                                                 size_t whylen)
{
    if (want && *want && strcmp(want, "auto")) {
        const struct ix_cpu_engine *e = engine_named(want);
        char r[200] = "unknown engine";
        if (e && e->probe(sig, r, sizeof r) == 0)
            return e;
        snprintf(why, whylen, "cpu engine \"%s\" cannot run here: %s", want, r);
        return NULL;
    }
    const struct ix_cpu_engine *order[] = {&ix_cpu_engine_perf, &ix_cpu_engine_timer,
                                           &ix_cpu_engine_itimer};
    char r[200] = "";
    for (size_t i = 0; i < 3; i++)
        if (order[i]->probe(sig, r, sizeof r) == 0)
            return order[i];
    snprintf(why, whylen, "no cpu sampling engine can run here: %s", r);
    return NULL;
}

static void in_forked_child(void)
{
    /* The child inherits the perf fds: left open they would keep the parent's
     * events alive after the parent closes them. Timers are not inherited. */
    if (atomic_load(&g_busy)) {
        ix_cpu_signal_accept(0);
        ix_cpu_perf_close_all_inherited();
        atomic_store(&g_busy, 0); /* the session's thread is gone: its memory is left */
    }
}

static void atfork_once(void) { pthread_atfork(NULL, NULL, in_forked_child); }

static void free_session(void)
{
    ix_cpu_ring_free(&g_cpu.ring);
    free(g_cpu.thr);
    free(g_cpu.scan);
    g_cpu.thr = NULL;
    g_cpu.scan = NULL;
    g_cpu.nthr = g_cpu.cap = g_cpu.scancap = 0;
}

int ix_cpu_start(const struct ix_cpu_options *o, char *why, size_t whylen)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&g_busy, &expect, 1)) {
        snprintf(why, whylen, "a CPU profile is already running");
        return INTROSPECT_EBUSY;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, atfork_once);
    memset(&g_cpu, 0, sizeof g_cpu);
    g_cpu.engine = choose_engine(o->engine, o->sig, why, whylen);
    if (!g_cpu.engine) {
        atomic_store(&g_busy, 0);
        return INTROSPECT_ESYS;
    }
    g_cpu.hz = o->hz;
    g_cpu.period_ns = 1000000000L / o->hz;
    g_cpu.sig = o->sig;
    g_cpu.rng = ix_rand_seed(&g_cpu);
    if (ix_cpu_ring_init(&g_cpu.ring, RING_RECORDS)) {
        snprintf(why, whylen, "cannot allocate the sample ring");
        atomic_store(&g_busy, 0);
        return INTROSPECT_ENOMEM;
    }
    /* The unwinder initializes itself on first use (pthread_once): do it here,
     * never for the first time inside a signal handler. */
    uintptr_t warm[4];
    ix_unwind_here(warm, 4, 0);
    ix_unwind_tables_update(); /* the fast stack walk's tables (stack/unwind_tables.h) */
    int rc = ix_cpu_signal_install(o->sig, &g_cpu.ring, why, whylen);
    if (rc == INTROSPECT_ESIGNAL && g_cpu.engine == &ix_cpu_engine_perf) {
        /* Ring mode needs no signal: profile beside the other handler,
         * leaving its signal alone; only threads without a ring go unsampled. */
        snprintf(g_cpu.foreign, sizeof g_cpu.foreign, "%s", why);
        why[0] = 0;
        rc = 0;
    }
    if (rc) {
        free_session();
        atomic_store(&g_busy, 0);
        return rc;
    }
    ix_profile_init(&g_cpu.prof, "profile");
    ix_profile_add_type(&g_cpu.prof, "samples", "count");
    ix_profile_add_type(&g_cpu.prof, "cpu", "nanoseconds");
    g_cpu.prof.period_type = (struct ix_value_type){"cpu", "nanoseconds"};
    g_cpu.prof.period = g_cpu.period_ns;
    ix_cpu_signal_accept(engine_is_perf(g_cpu.engine)           ? IX_ACCEPT_PERF | IX_ACCEPT_TIMER
                         : g_cpu.engine == &ix_cpu_engine_timer ? IX_ACCEPT_TIMER
                                                            : IX_ACCEPT_ITIMER);
    g_cpu.real0_ns = ix_real_ns();
    getrusage(RUSAGE_SELF, &g_cpu.ru0);
    g_cpu.mono0 = ix_mono_ns();
    atomic_store(&g_ends_ns, g_cpu.mono0 + o->seconds * 1000000000LL);
    rescan(); /* names for every engine; arms the per-thread ones */
    if (!g_cpu.engine->per_thread && g_cpu.engine->start(g_cpu.period_ns, g_cpu.sig, why, whylen)) {
        ix_cpu_stop(NULL);
        return INTROSPECT_ESYS;
    }
    atomic_store(&t_engine, g_cpu.engine->name);
    return 0;
}

long ix_cpu_remaining_seconds(void)
{
    if (!atomic_load(&g_busy))
        return 0;
    long long left = atomic_load(&g_ends_ns) - ix_mono_ns();
    return left > 0 ? (long)((left + 999999999LL) / 1000000000LL) : 1;
}

void ix_cpu_poll(void)
{
    if (ix_mono_ns() - g_cpu.last_scan >= RESCAN_NS)
        rescan();
    drain_rings();
    ix_cpu_ring_drain(&g_cpu.ring, add_record, NULL);
}

static double tv_diff(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}

/* Expected samples = CPU seconds x rate. Where the kernel refuses kernel-mode
 * perf samples (perf_event_paranoid = 2, unprivileged) the perf engines
 * sample user space only, so their expectation uses user CPU; otherwise
 * user + system time, as the timers count. */
static void write_comments(const struct rusage *ru1, uint64_t drops,
                           const struct ix_cpu_sigcounts *c)
{
    double user_s = tv_diff(g_cpu.ru0.ru_utime, ru1->ru_utime);
    double sys_s = tv_diff(g_cpu.ru0.ru_stime, ru1->ru_stime);
    int user_only = engine_is_perf(g_cpu.engine) && ix_cpu_perf_user_only();
    uint64_t samples = c->deliveries + g_cpu.perf.samples;
    uint64_t periods = c->periods + g_cpu.perf.samples;
    double cpu_s = user_only ? user_s : user_s + sys_s;
    size_t sampled = 0, seen = g_cpu.nthr;
    for (size_t i = 0; i < g_cpu.nthr; i++)
        sampled += g_cpu.thr[i].periods > 0;
    double expected = cpu_s * (double)g_cpu.hz;
    ix_profile_comment(&g_cpu.prof, "engine: %s (%s)", g_cpu.engine->name, g_cpu.engine->what);
    ix_profile_comment(&g_cpu.prof, "rate: requested %ld Hz, effective %.1f Hz per CPU second",
                       g_cpu.hz, cpu_s > 0 ? (double)periods / cpu_s : 0.0);
    ix_profile_comment(&g_cpu.prof,
                       "samples: %llu (%llu read from perf rings, %llu signals) for %llu periods; "
                       "expected %.0f from %.3f s of %s CPU (ratio %.3f); process CPU %.3f s "
                       "user + %.3f s system",
                       (unsigned long long)samples, (unsigned long long)g_cpu.perf.samples,
                       (unsigned long long)c->deliveries, (unsigned long long)periods, expected,
                       cpu_s, user_only ? "user" : "process",
                       expected > 0 ? (double)periods / expected : 0.0, user_s, sys_s);
    ix_profile_comment(&g_cpu.prof,
                       "lost: %llu dropped (ring full); %llu timer overruns folded into late "
                       "samples; %llu foreign signals ignored; %llu stacks cut at the %d-byte "
                       "stack copy",
                       (unsigned long long)drops, (unsigned long long)c->overruns,
                       (unsigned long long)c->ignored, (unsigned long long)g_cpu.perf.truncated,
                       IX_PERF_STACK_BYTES);
    ix_profile_comment(&g_cpu.prof,
                       "threads: %zu sampled of %zu seen; %llu signalled (no ring), %llu on "
                       "fallback timers; %llu could not be armed",
                       sampled, seen, (unsigned long long)g_cpu.signalled,
                       (unsigned long long)g_cpu.fallbacks, (unsigned long long)g_cpu.arm_failures);
    if (g_cpu.foreign[0])
        ix_profile_comment(&g_cpu.prof, "signal: not used, perf rings only (%s)", g_cpu.foreign);
    atomic_fetch_add(&t_threads, sampled);
}

void ix_cpu_stop(struct ix_profile *out)
{
    /* The window's CPU ends where sampling ends, not after the grace period
     * for signals in flight (ix_cpu_signal_restore) or the final drains. */
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    ix_cpu_signal_quiesce();
    if (g_cpu.engine && !g_cpu.engine->per_thread)
        g_cpu.engine->stop();
    for (size_t i = 0; i < g_cpu.nthr; i++)
        if (g_cpu.thr[i].alive)
            release_thread(&g_cpu.thr[i]);
    ix_cpu_signal_restore();
    ix_cpu_ring_drain(&g_cpu.ring, add_record, NULL);
    struct ix_cpu_sigcounts c;
    ix_cpu_signal_counts(&c);
    uint64_t drops = atomic_load(&g_cpu.ring.drops) + g_cpu.perf.lost;
    g_cpu.prof.time_nanos = g_cpu.real0_ns;
    g_cpu.prof.duration_nanos = ix_mono_ns() - g_cpu.mono0;
    write_comments(&ru1, drops, &c);
    atomic_fetch_add(&t_profiles, 1);
    atomic_fetch_add(&t_samples, c.deliveries + g_cpu.perf.samples);
    atomic_fetch_add(&t_periods, c.periods + g_cpu.perf.samples);
    atomic_fetch_add(&t_drops, drops);
    atomic_fetch_add(&t_overruns, c.overruns);
    if (out)
        *out = g_cpu.prof; /* ownership moves to the caller */
    else
        ix_profile_free(&g_cpu.prof);
    free_session();
    atomic_store(&g_busy, 0);
}

void ix_cpu_totals(struct ix_cpu_totals *t)
{
    t->profiles = atomic_load(&t_profiles);
    t->samples = atomic_load(&t_samples);
    t->periods = atomic_load(&t_periods);
    t->drops = atomic_load(&t_drops);
    t->overruns = atomic_load(&t_overruns);
    t->threads = atomic_load(&t_threads);
    t->active = atomic_load(&g_busy);
    t->engine = atomic_load(&t_engine);
}
