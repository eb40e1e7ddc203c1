/* CPU profile sessions (see sampling/cpu/profiler.h). All of this runs on the
 * profiling thread; the signal side is sampling/cpu/handler.c. */
#include "sampling/cpu/profiler.h"
#include "labels/labels.h"
#include "introspect.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/perf_event.h>
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
#include "sampling/threads/create.h"
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
    uint64_t periods0;    /* periods when it was last armed */
    long long cpu_stop;   /* a timer's thread: its CPU where sampling stopped (0: none) */
    uint32_t stack_bytes; /* perf ring: the copy this thread needs (grows on cut walks) */
    int self_armed;       /* armed by the thread itself as it started (ix_cpu_thread_begin) */
    int deep;             /* signalled because even the largest copy cut its walks */
    long long cpu0;       /* the thread's CPU time when it was armed */
    long first_ns;        /* its first expiry */
    void *start_fn;       /* the start routine of a self-armed thread */
    int ended;            /* its exit hook ran (it may still be listed while it exits) */
    uint64_t start_owed;  /* periods its start used before it armed itself */
    int zombie;           /* exited; its disabled event awaits the profiling thread */
};

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
    char chose[200];   /* why auto chose what it chose, when it matters */
    struct ix_cpu_perf_stats perf; /* samples read from the perf engine's rings */
    /* stacks: sample weight walked, reaching the first frame, at the depth limit */
    uint64_t walked, rooted, at_depth;
    uint64_t grown, deepened; /* threads given a bigger copy / moved to signals for depth */
    uint32_t max_stack;       /* largest copy in use */
    /* descriptors: the host keeps at least fd_reserve free; perf events only
     * while fd_room > 0 (recomputed at every rescan) */
    long fd_limit, fd_reserve, fd_room, fd_at_start;
    uint64_t budget_timers, shed;
    /* threads that exited during the window (seen by the exit hook) */
    uint64_t exited, self_armed;
    long long exited_cpu_ns;
    long long before_arm_ns; /* CPU self-armed threads used before arming (their start) */
    long long arm_cost_ns;   /* a thread's cost of arming itself, moving average */
    uint64_t zombies;        /* threads that exited and wait for the profiling thread */
    /* CPU of dead threads: process CPU minus the live threads' at start and
     * stop; hook_cpu_ns sums the CPU threads had at their exit hook, so the
     * rest is what threads spent after it (their exit in libc and kernel) */
    long long dead0_ns, hook_cpu_ns, tail_ns;
    uint64_t owed; /* periods of exited threads' CPU their timer had not sampled */
    void (*tap)(const struct ix_cpu_rec *rec, void *arg);
    void *tap_arg;
} g_cpu;

/* S is shared by the profiling thread (start, poll, stop) and by threads that
 * start or exit during a profile (ix_cpu_thread_begin/end): g_lock guards it
 * while g_live says new threads are to be armed. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int g_live;
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

/* A thread's CPU time (any thread of this process: its CPU clock id is
 * built from its tid, as in engine_timer.c). */
static long long thread_cpu_ns(pid_t tid)
{
    long long ns = ix_clock_ns((clockid_t)(((unsigned)~tid << 3) | 6));
    return ns < 0 ? 0 : ns;
}

/* Arm one thread. The perf engines take one descriptor per thread: past the
 * descriptor budget, or when the event cannot be opened, the thread gets a
 * CPU-time timer instead (no descriptor). Randomizing the first expiry keeps
 * short-lived threads from being systematically under-counted. */
static void arm_thread(struct thr *t)
{
    if (!g_cpu.engine->per_thread)
        return;
    long first = 1 + (long)(next_rand() % (uint64_t)g_cpu.period_ns);
    int sig = g_cpu.foreign[0] ? 0 : g_cpu.sig;
    t->cpu0 = thread_cpu_ns(t->tid);
    t->periods0 = t->periods;
    if (t->self_armed && t->arm.kind == IX_ARM_NONE && !t->start_owed) {
        /* A thread arming itself has run since its birth (its start in the
         * kernel and libc) and runs on while it arms: its phase counts from
         * its birth, up to where its event will start (now plus the recent
         * cost of arming). Expiries already passed become samples of the
         * stack it has now (thread start). */
        t->cpu0 += g_cpu.arm_cost_ns;
        if (t->cpu0 >= first) {
            long long passed = t->cpu0 - first;
            t->start_owed = 1 + (uint64_t)(passed / g_cpu.period_ns);
            first = g_cpu.period_ns - (long)(passed % g_cpu.period_ns);
        } else {
            first -= (long)t->cpu0;
        }
    }
    const struct ix_cpu_engine *e = t->deep && sig ? &ix_cpu_engine_timer : g_cpu.engine;
    int rc = -EMFILE;
    t->first_ns = first;
    t->arm.stack_bytes = t->stack_bytes;
    t->arm.starting = t->self_armed;
    if (!engine_is_perf(e) || g_cpu.fd_room > 0)
        rc = e->arm(t->tid, g_cpu.period_ns, first, sig, &t->arm);
    else
        g_cpu.budget_timers++;
    if (rc == 0 && e == &ix_cpu_engine_perf && t->arm.kind == IX_ARM_PERF && !t->self_armed)
        g_cpu.signalled++; /* its ring could not be mapped */
    if (rc == 0 && engine_is_perf(e))
        g_cpu.fd_room--;
    if (rc == 0 && t->arm.stack_bytes > g_cpu.max_stack)
        g_cpu.max_stack = t->arm.stack_bytes;
    if (rc && rc != -ESRCH && engine_is_perf(e) && sig) {
        int over_budget = rc == -EMFILE && g_cpu.fd_room <= 0;
        rc = ix_cpu_engine_timer.arm(t->tid, g_cpu.period_ns, first, g_cpu.sig, &t->arm);
        if (rc == 0 && !over_budget)
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
    if (t->arm.kind == IX_ARM_PERF || t->arm.kind == IX_ARM_PERF_RING)
        g_cpu.fd_room++;
    ix_cpu_disarm(&t->arm);
}

/* A walk cut at the end of the stack copy: re-arm the thread with a copy
 * four times bigger, up to the kernel's maximum; past that, or when the
 * kernel's copy stopped at a page it could not read (a hole: no bigger copy
 * gets past it), give the thread a CPU-time timer so the handler walks its
 * live stack (when the signal is ours; a timer, not perf-signal: measured
 * on memcached, perf-signal lost 11% of the periods, the timer counts every
 * period through si_overrun). The few samples already cut stay in the
 * profile, counted; the thread keeps what it needed for later profiles. */
static void deepen(struct thr *t, int hole)
{
    uint32_t cur = t->arm.stack_bytes ? t->arm.stack_bytes : IX_PERF_STACK_BYTES;
    release_thread(t);
    if (cur < IX_PERF_STACK_MAX && !hole) {
        t->stack_bytes = cur * 4 < IX_PERF_STACK_MAX ? cur * 4 : IX_PERF_STACK_MAX;
        g_cpu.grown++;
    } else {
        t->deep = 1;
        g_cpu.deepened++;
    }
    arm_thread(t);
}

static void drain_rings(void)
{
    for (size_t i = 0; i < g_cpu.nthr; i++) {
        struct thr *t = &g_cpu.thr[i];
        if (!t->alive || t->arm.kind != IX_ARM_PERF_RING)
            continue;
        uint64_t cut = g_cpu.perf.truncated, holes = g_cpu.perf.holes;
        ix_cpu_perf_ring_drain(&t->arm, add_record, NULL, &g_cpu.perf);
        int hole = g_cpu.perf.holes > holes;
        if (g_cpu.perf.truncated > cut &&
            !((hole || t->stack_bytes >= IX_PERF_STACK_MAX) && g_cpu.foreign[0]))
            deepen(t, hole);
    }
}

/* Descriptors the host may still open before RLIMIT_NOFILE. */
static long fd_headroom(void)
{
    long used = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return g_cpu.fd_limit;
    while (readdir(d))
        used++;
    closedir(d);
    used -= 3; /* ".", ".." and the directory's own descriptor */
    if (g_cpu.fd_at_start < 0)
        g_cpu.fd_at_start = used;
    return g_cpu.fd_limit - used;
}

/* The perf engines' descriptor budget: keep max(64, 10% of the limit) free
 * for the host. When the host itself comes close, give descriptors back by
 * moving threads from perf events to timers. */
static void update_fd_budget(void)
{
    if (!engine_is_perf(g_cpu.engine))
        return;
    g_cpu.fd_room = fd_headroom() - g_cpu.fd_reserve;
    for (size_t i = 0; i < g_cpu.nthr && g_cpu.fd_room < 0; i++) {
        struct thr *t = &g_cpu.thr[i];
        if (!t->alive || (t->arm.kind != IX_ARM_PERF && t->arm.kind != IX_ARM_PERF_RING))
            continue;
        release_thread(t);
        arm_thread(t); /* over budget: a timer */
        g_cpu.shed++;
    }
}

static void init_fd_budget(void)
{
    struct rlimit rl;
    g_cpu.fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                         rl.rlim_cur < 1L << 30
                     ? (long)rl.rlim_cur
                     : 1L << 30;
    g_cpu.fd_reserve = g_cpu.fd_limit / 10 > 64 ? g_cpu.fd_limit / 10 : 64;
    g_cpu.fd_at_start = -1;
    g_cpu.fd_room = fd_headroom() - g_cpu.fd_reserve;
}

static int list_threads(size_t *n)
{
    for (;;) {
        int got = ix_thread_list(g_cpu.scan, (int)g_cpu.scancap);
        if (got < 0)
            return got;
        if ((size_t)got <= g_cpu.scancap) {
            *n = (size_t)got;
            return 0;
        }
        size_t cap = (size_t)got * 2;
        pid_t *p = realloc(g_cpu.scan, cap * sizeof *p);
        if (!p)
            return INTROSPECT_ENOMEM;
        g_cpu.scan = p;
        g_cpu.scancap = cap;
    }
}

/* What threads needed (copy size, live walks), kept from one profile to
 * the next so that a server profiled again starts right. Indexed by tid
 * (a reused tid inherits a mode: harmless). */
#define MEMO 1024
static struct memo {
    pid_t tid;
    uint32_t stack_bytes;
    int deep;
} g_memo[MEMO];

static void memo_save(const struct thr *t)
{
    if (t->stack_bytes || t->deep)
        g_memo[(unsigned)t->tid % MEMO] = (struct memo){t->tid, t->stack_bytes, t->deep};
}

static void memo_load(struct thr *t)
{
    const struct memo *m = &g_memo[(unsigned)t->tid % MEMO];
    if (m->tid == t->tid) {
        t->stack_bytes = m->stack_bytes;
        t->deep = m->deep;
    }
}

/* A new entry for tid, keeping the table sorted for find_thr (insertion:
 * new threads are few). NULL when out of memory. */
static struct thr *insert_thr(pid_t tid)
{
    if (g_cpu.nthr == g_cpu.cap) {
        size_t cap = g_cpu.cap ? g_cpu.cap * 2 : 64;
        struct thr *p = realloc(g_cpu.thr, cap * sizeof *p);
        if (!p)
            return NULL;
        g_cpu.thr = p;
        g_cpu.cap = cap;
    }
    size_t k = g_cpu.nthr++;
    for (; k > 0 && g_cpu.thr[k - 1].tid > tid; k--)
        g_cpu.thr[k] = g_cpu.thr[k - 1];
    struct thr *t = &g_cpu.thr[k];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->alive = 1;
    t->arm.fd = -1;
    memo_load(t);
    return t;
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
    update_fd_budget();
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
            if (!t->alive && !t->ended) { /* tid reused */
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
        struct thr *t = insert_thr(g_cpu.scan[j]);
        if (!t)
            break;
        ix_thread_name(t->tid, t->name, sizeof t->name);
        arm_thread(t);
    }
    g_cpu.last_scan = ix_mono_ns();
}

/* Whether a stack reaches its thread's first frame: its outermost pc is in
 * a frame whose return address is undefined (_start, clone3). */
static int reaches_root(const uintptr_t *pcs, int n)
{
    const struct ix_usnapshot *snap = ix_unwind_tables_current();
    const struct ix_uobject *hint = NULL;
    if (!snap || n <= 0 || pcs[n - 1] < 4096)
        return 0;
    const struct ix_urow *r = ix_unwind_lookup(snap, pcs[n - 1] - 1, &hint);
    return r && (r->flags & IX_UROW_OUTERMOST);
}

static void add_record(const struct ix_cpu_rec *rec, void *arg)
{
    (void)arg;
    if (g_cpu.tap)
        g_cpu.tap(rec, g_cpu.tap_arg);
    g_cpu.walked += (uint64_t)rec->weight;
    if (reaches_root(rec->pcs, rec->npcs))
        g_cpu.rooted += (uint64_t)rec->weight;
    else if (rec->npcs >= IX_CPU_MAX_DEPTH)
        g_cpu.at_depth += (uint64_t)rec->weight;
    struct thr *t = find_thr(rec->tid);
    char name[16] = "";
    if (t) {
        t->periods += (uint64_t)rec->weight;
        memcpy(name, t->name, sizeof name);
    } else {
        ix_thread_name(rec->tid, name, sizeof name);
    }
    int64_t values[2] = {rec->weight, (int64_t)rec->weight * g_cpu.period_ns};
    struct ix_label labels[2 + IX_LABELS_MAX_PAIRS] = {
        {"thread", name, 0, NULL},
        {"tid", NULL, rec->tid, NULL},
    };
    int nl = 2;
    const struct ix_labelset *ls = ix_labelset_get(rec->labels);
    for (int i = 0; ls && i < ls->n; i++)
        labels[nl++] = (struct ix_label){ls->keys[i], ls->vals[i], 0, NULL};
    ix_profile_add(&g_cpu.prof, rec->pcs, rec->npcs > 0 ? rec->npcs : 0, values, labels, nl);
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

static int perf_paranoid(void)
{
    int v = -9;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -9;
        fclose(f);
    }
    return v;
}

/* auto: the most precise engine that counts all of the CPU here. */
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
    for (size_t i = 0; i < 3; i++) {
        if (order[i]->probe(sig, r, sizeof r))
            continue;
        /* Where the kernel refuses kernel-mode samples (perf_event_paranoid
         * 2 without CAP_PERFMON) perf would not see system time: CPU-time
         * timers count user and system time alike. */
        if (order[i] == &ix_cpu_engine_perf && ix_cpu_perf_user_only() &&
            ix_cpu_engine_timer.probe(sig, r, sizeof r) == 0) {
            snprintf(g_cpu.chose, sizeof g_cpu.chose,
                     "timer, not perf: the kernel refuses kernel-mode perf samples here "
                     "(perf_event_paranoid %d), so perf would miss system time",
                     perf_paranoid());
            return &ix_cpu_engine_timer;
        }
        return order[i];
    }
    snprintf(why, whylen, "no cpu sampling engine can run here: %s", r);
    return NULL;
}

static void in_forked_child(void)
{
    /* The child inherits the perf fds: left open they would keep the parent's
     * events alive after the parent closes them. Timers are not inherited. */
    atomic_store(&g_live, 0);
    pthread_mutex_init(&g_lock, NULL); /* the parent's holder does not exist here */
    if (atomic_load(&g_busy)) {
        ix_cpu_signal_accept(0);
        ix_cpu_perf_close_all_inherited();
        atomic_store(&g_busy, 0); /* the session's thread is gone: its memory is left */
    }
}

static void atfork_once(void)
{
    pthread_atfork(NULL, NULL, in_forked_child);
    ix_thread_set_hooks(ix_cpu_thread_begin, ix_cpu_thread_end);
}

static void free_session(void)
{
    ix_cpu_ring_free(&g_cpu.ring);
    free(g_cpu.thr);
    free(g_cpu.scan);
    g_cpu.thr = NULL;
    g_cpu.scan = NULL;
    g_cpu.nthr = g_cpu.cap = g_cpu.scancap = 0;
}

/* Process CPU minus the CPU of the threads alive now: what dead threads used. */
static long long dead_cpu_ns(void)
{
    long long d = ix_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    size_t n;
    if (list_threads(&n))
        return d;
    for (size_t i = 0; i < n; i++)
        d -= thread_cpu_ns(g_cpu.scan[i]);
    return d;
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
    pthread_mutex_lock(&g_lock);
    memset(&g_cpu, 0, sizeof g_cpu);
    g_cpu.engine = choose_engine(o->engine, o->sig, why, whylen);
    if (!g_cpu.engine) {
        pthread_mutex_unlock(&g_lock);
        atomic_store(&g_busy, 0);
        return INTROSPECT_ESYS;
    }
    g_cpu.hz = o->hz;
    g_cpu.period_ns = 1000000000L / o->hz;
    g_cpu.sig = o->sig;
    g_cpu.tap = o->tap;
    g_cpu.tap_arg = o->tap_arg;
    g_cpu.rng = (uint64_t)ix_mono_ns() | 1;
    if (ix_cpu_ring_init(&g_cpu.ring, RING_RECORDS)) {
        snprintf(why, whylen, "cannot allocate the sample ring");
        pthread_mutex_unlock(&g_lock);
        atomic_store(&g_busy, 0);
        return INTROSPECT_ENOMEM;
    }
    /* The unwinder initializes itself on first use (pthread_once): do it here,
     * never for the first time inside a signal handler. */
    uintptr_t warm[4];
    ix_unwind_here(warm, 4, 0);
    ix_unwind_tables_hold(); /* the fast stack walk's tables (stack/unwind_tables.h) */
    int rc = ix_cpu_signal_install(o->sig, &g_cpu.ring, why, whylen);
    if (rc == INTROSPECT_ESIGNAL && g_cpu.chose[0]) { /* auto took timers for system time, but the signal is taken */
        g_cpu.engine = &ix_cpu_engine_perf;
        g_cpu.chose[0] = 0;
    }
    if (rc == INTROSPECT_ESIGNAL && g_cpu.engine == &ix_cpu_engine_perf) {
        /* Ring mode needs no signal: profile beside the other handler,
         * leaving its signal alone; only threads without a ring go unsampled. */
        snprintf(g_cpu.foreign, sizeof g_cpu.foreign, "%s", why);
        why[0] = 0;
        rc = 0;
    }
    if (rc) {
        free_session();
        ix_unwind_tables_unhold();
        pthread_mutex_unlock(&g_lock);
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
    init_fd_budget();
    g_cpu.real0_ns = ix_real_ns();
    getrusage(RUSAGE_SELF, &g_cpu.ru0);
    g_cpu.mono0 = ix_mono_ns();
    atomic_store(&g_ends_ns, g_cpu.mono0 + o->seconds * 1000000000LL);
    /* From here threads that start arm themselves (ix_cpu_thread_begin),
     * waiting on the lock until the first scan has armed the others. */
    atomic_store(&g_live, g_cpu.engine->per_thread);
    rescan(); /* names for every engine; arms the per-thread ones */
    g_cpu.dead0_ns = dead_cpu_ns();
    if (!g_cpu.engine->per_thread && g_cpu.engine->start(g_cpu.period_ns, g_cpu.sig, why, whylen)) {
        pthread_mutex_unlock(&g_lock);
        ix_cpu_stop(NULL);
        return INTROSPECT_ESYS;
    }
    atomic_store(&t_engine, g_cpu.engine->name);
    pthread_mutex_unlock(&g_lock);
    return 0;
}

long ix_cpu_remaining_seconds(void)
{
    if (!atomic_load(&g_busy))
        return 0;
    long long left = atomic_load(&g_ends_ns) - ix_mono_ns();
    return left > 0 ? (long)((left + 999999999LL) / 1000000000LL) : 1;
}

static void reap_zombies(void);

void ix_cpu_poll(void)
{
    pthread_mutex_lock(&g_lock);
    if (ix_mono_ns() - g_cpu.last_scan >= RESCAN_NS)
        rescan();
    reap_zombies();
    drain_rings();
    ix_cpu_ring_drain(&g_cpu.ring, add_record, NULL);
    pthread_mutex_unlock(&g_lock);
}

/* ---- threads that start or end during a profile ----
 *
 * A thread found by the 10 ms rescan misses the CPU it used before it was
 * found: a thread-per-request server whose requests take a few ms would be
 * almost invisible. So the pthread_create wrapper (sampling/threads/create.c)
 * calls ix_cpu_thread_begin in the new thread before the host's start
 * routine: the thread arms its own event or timer, and is sampled from its
 * first instruction. At its exit ix_cpu_thread_end releases it (its ring is
 * drained into the profile) and accounts its CPU.
 *
 * CPU-time timers are checked on the scheduler tick: a thread that exits a
 * moment after its timer expired (before the next tick) is never signalled.
 * A perf event armed this way gets its real period at its first sample,
 * which restarts the period a signal's latency late (~50 us here: 5% at
 * 1000 Hz). The exit hook knows the thread's CPU time, its first expiry and
 * the periods its signals stood for (counted by the handler in the thread
 * itself), so the periods owed are added under its start routine, below a
 * frame that says so. */

void ix_cpu_thread_begin(void *start_fn)
{
    if (!atomic_load_explicit(&g_live, memory_order_relaxed))
        return;
    pid_t tid = ix_gettid();
    pthread_mutex_lock(&g_lock);
    if (atomic_load(&g_live)) {
        struct thr *t = find_thr(tid);
        if (t && (t->alive || t->zombie)) { /* the tid of a thread that exited */
            release_thread(t);
            if (t->zombie) {
                t->zombie = 0;
                g_cpu.zombies--;
            }
        }
        if (!t)
            t = insert_thr(tid);
        if (t) {
            memset(&t->arm, 0, sizeof t->arm);
            t->arm.fd = -1;
            t->start_owed = 0;
            t->alive = 1;
            t->ended = 0;
            t->self_armed = 1;
            t->start_fn = start_fn;
            t->periods = 0;
            prctl(PR_GET_NAME, t->name);
            ix_cpu_signal_thread_reset();
            long long c0 = thread_cpu_ns(tid);
            arm_thread(t);
            long long cost = thread_cpu_ns(tid) - c0;
            g_cpu.arm_cost_ns = g_cpu.arm_cost_ns ? (7 * g_cpu.arm_cost_ns + cost) / 8 : cost;
            g_cpu.before_arm_ns += t->cpu0;
            g_cpu.self_armed++;
            if (t->start_owed) {
                uintptr_t pcs[IX_CPU_MAX_DEPTH];
                int n = ix_unwind_here(pcs, IX_CPU_MAX_DEPTH, 0);
                int64_t w = (int64_t)t->start_owed;
                int64_t values[2] = {w, w * g_cpu.period_ns};
                struct ix_label labels[2] = {{"thread", t->name, 0, NULL},
                                             {"tid", NULL, tid, NULL}};
                ix_profile_add(&g_cpu.prof, pcs, n, values, labels, 2);
                t->periods += (uint64_t)w;
                t->periods0 = t->periods;
                g_cpu.owed += (uint64_t)w;
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void ix_cpu_thread_end(void)
{
    if (!atomic_load_explicit(&g_live, memory_order_relaxed))
        return;
    pid_t tid = ix_gettid();
    long long cpu = thread_cpu_ns(tid);
    uint64_t delivered = ix_cpu_signal_thread_periods();
    pthread_mutex_lock(&g_lock);
    if (atomic_load(&g_live))
        g_cpu.hook_cpu_ns += cpu;
    struct thr *t = atomic_load(&g_live) ? find_thr(tid) : NULL;
    if (t && t->alive) {
        long long used = cpu - t->cpu0;
        g_cpu.exited++;
        g_cpu.exited_cpu_ns += used > 0 ? used : 0;
        /* signalled arms: the handler counted this thread's periods */
        if (t->self_armed && (t->arm.kind == IX_ARM_TIMER || t->arm.kind == IX_ARM_PERF)) {
            uint64_t due = used >= t->first_ns
                               ? 1 + (uint64_t)((used - t->first_ns) / g_cpu.period_ns)
                               : 0;
            if (due > delivered) {
                uintptr_t pcs[2] = {
                    ix_profile_pseudo_pc(&g_cpu.prof, "[CPU at thread exit, after its last sample]"),
                    (uintptr_t)t->start_fn + 1};
                int64_t w = (int64_t)(due - delivered);
                int64_t values[2] = {w, w * g_cpu.period_ns};
                struct ix_label labels[2] = {{"thread", t->name, 0, NULL},
                                             {"tid", NULL, tid, NULL}};
                if (pcs[0])
                    ix_profile_add(&g_cpu.prof, pcs, t->start_fn ? 2 : 1, values, labels, 2);
                t->periods += (uint64_t)w;
                g_cpu.owed += (uint64_t)w;
            }
        }
        /* Stop counting here; the profiling thread drains and closes the
         * event at its next poll (closing one costs ~0.1 ms: on the profiling
         * thread it is sampled as the profiler's own work, here it would be
         * CPU of this thread that no sample sees). */
        if (t->arm.kind == IX_ARM_PERF || t->arm.kind == IX_ARM_PERF_RING) {
            ioctl(t->arm.fd, PERF_EVENT_IOC_DISABLE, 0);
            t->zombie = 1;
            g_cpu.zombies++;
        } else {
            release_thread(t);
        }
        t->alive = 0;
        t->ended = 1;
    }
    pthread_mutex_unlock(&g_lock);
}

/* Events of threads that exited (ix_cpu_thread_end): drain and close. */
static void reap_zombies(void)
{
    for (size_t i = 0; i < g_cpu.nthr && g_cpu.zombies; i++)
        if (g_cpu.thr[i].zombie) {
            release_thread(&g_cpu.thr[i]);
            g_cpu.thr[i].zombie = 0;
            g_cpu.zombies--;
        }
}

static double tv_diff(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) / 1e6;
}

/* Expected samples = CPU seconds x rate, of the process's user + system
 * time. Where the perf engine ran without kernel-mode samples (forced, or
 * beside another SIGPROF handler, at perf_event_paranoid 2) the system time
 * it could not see is added as a frame of its own, so that every view
 * (pprof -top's first rows, the UI, the text) shows what is missing; the
 * same for anything else that is known to be missing. Lines that start with
 * "warning:" are shown as notices by the UI (the JSON's "warnings"). */
static void write_comments(const struct rusage *ru1, uint64_t drops,
                           const struct ix_cpu_sigcounts *c)
{
    double user_s = tv_diff(g_cpu.ru0.ru_utime, ru1->ru_utime);
    double sys_s = tv_diff(g_cpu.ru0.ru_stime, ru1->ru_stime);
    int user_only = engine_is_perf(g_cpu.engine) && ix_cpu_perf_user_only();
    uint64_t samples = c->deliveries + g_cpu.perf.samples + g_cpu.owed;
    uint64_t periods = c->periods + g_cpu.perf.samples + g_cpu.owed;
    double cpu_s = user_s + sys_s;
    size_t sampled = 0, seen = g_cpu.nthr;
    for (size_t i = 0; i < g_cpu.nthr; i++)
        sampled += g_cpu.thr[i].periods > 0;
    double expected = cpu_s * (double)g_cpu.hz;
    uint64_t missing_sys = 0;
    if (user_only && sys_s > 0) {
        missing_sys = (uint64_t)(sys_s * (double)g_cpu.hz + 0.5);
        uintptr_t pc = ix_profile_pseudo_pc(&g_cpu.prof, "[kernel time not sampled]");
        int64_t values[2] = {(int64_t)missing_sys, (int64_t)missing_sys * g_cpu.period_ns};
        if (pc && missing_sys)
            ix_profile_add(&g_cpu.prof, &pc, 1, values, NULL, 0);
    }
    /* What threads spent after their exit hook (libc and kernel teardown):
     * no event runs there; measured, it is shown as a frame of its own. */
    uint64_t tail = g_cpu.tail_ns > g_cpu.period_ns / 2
                        ? (uint64_t)((g_cpu.tail_ns + g_cpu.period_ns / 2) / g_cpu.period_ns)
                        : 0;
    if (tail) {
        uintptr_t pc = ix_profile_pseudo_pc(&g_cpu.prof, "[thread exit]");
        int64_t values[2] = {(int64_t)tail, (int64_t)tail * g_cpu.period_ns};
        if (pc)
            ix_profile_add(&g_cpu.prof, &pc, 1, values, NULL, 0);
        periods += tail;
    }
    double ratio = expected > 0 ? (double)periods / expected : 0.0;
    if (missing_sys)
        ix_profile_comment(&g_cpu.prof,
                           "warning: %.3f s of system CPU (%.0f%% of the process's CPU) was not "
                           "sampled: the kernel refuses kernel-mode perf samples here "
                           "(perf_event_paranoid %d); it is the frame [kernel time not sampled]. "
                           "The timer engine (INTROSPECT_CPU_ENGINE=timer or auto) counts it",
                           sys_s, cpu_s > 0 ? 100.0 * sys_s / cpu_s : 0.0, perf_paranoid());
    else if (expected >= 100 && ratio < 0.9)
        ix_profile_comment(&g_cpu.prof,
                           "warning: the samples account for only %.0f%% of the process's CPU "
                           "(%.3f s); see the lines below for what was lost",
                           100.0 * ratio, cpu_s);
    ix_profile_comment(&g_cpu.prof, "engine: %s (%s)%s%s", g_cpu.engine->name, g_cpu.engine->what,
                       g_cpu.chose[0] ? "; auto chose " : "", g_cpu.chose);
    ix_profile_comment(&g_cpu.prof, "rate: requested %ld Hz, effective %.1f Hz per CPU second",
                       g_cpu.hz, cpu_s > 0 ? (double)periods / cpu_s : 0.0);
    ix_profile_comment(&g_cpu.prof,
                       "samples: %llu (%llu read from perf rings, %llu signals, %llu owed at "
                       "thread start or exit, or by timers at the end) for %llu periods%s; expected %.0f from %.3f s of process "
                       "CPU (ratio %.3f%s); process CPU %.3f s user + %.3f s system",
                       (unsigned long long)samples, (unsigned long long)g_cpu.perf.samples,
                       (unsigned long long)c->deliveries, (unsigned long long)g_cpu.owed,
                       (unsigned long long)periods, missing_sys ? " + the unsampled system time"
                                                                : "",
                       expected, cpu_s, missing_sys ? (double)(periods + missing_sys) / expected
                                                    : ratio,
                       missing_sys ? ", of which sampled: user CPU only" : "", user_s, sys_s);
    ix_profile_comment(&g_cpu.prof,
                       "stacks: %llu of %llu samples (%.1f%%) reach the thread's first frame; "
                       "%llu cut at the end of the stack copy (%llu of them where the kernel could not "
                       "copy an untouched stack page), %llu at %d frames; copy grown for "
                       "%llu threads (largest %u bytes), %llu threads on CPU-time timers for depth (live "
                       "stack walks)",
                       (unsigned long long)g_cpu.rooted, (unsigned long long)g_cpu.walked,
                       g_cpu.walked ? 100.0 * (double)g_cpu.rooted / (double)g_cpu.walked : 0.0,
                       (unsigned long long)g_cpu.perf.truncated, (unsigned long long)g_cpu.perf.holes,
                       (unsigned long long)g_cpu.at_depth,
                       IX_CPU_MAX_DEPTH, (unsigned long long)g_cpu.grown,
                       g_cpu.max_stack ? g_cpu.max_stack : IX_PERF_STACK_BYTES,
                       (unsigned long long)g_cpu.deepened);
    ix_profile_comment(&g_cpu.prof,
                       "lost: %llu dropped (ring full); %llu timer overruns folded into late "
                       "samples; %llu foreign signals ignored",
                       (unsigned long long)drops, (unsigned long long)c->overruns,
                       (unsigned long long)c->ignored);
    ix_profile_comment(&g_cpu.prof,
                       "threads: %zu sampled of %zu seen; %llu armed themselves as they started, "
                       "%llu exited during the window (%.3f s of CPU while armed, %.3f s before, "
                       "%.3f s in their exit after the last hook: the frame [thread exit]); "
                       "%llu signalled (no ring), %llu on fallback timers; %llu could not be armed",
                       sampled, seen, (unsigned long long)g_cpu.self_armed,
                       (unsigned long long)g_cpu.exited, (double)g_cpu.exited_cpu_ns / 1e9,
                       (double)g_cpu.before_arm_ns / 1e9, (double)g_cpu.tail_ns / 1e9,
                       (unsigned long long)g_cpu.signalled, (unsigned long long)g_cpu.fallbacks,
                       (unsigned long long)g_cpu.arm_failures);
    if (engine_is_perf(g_cpu.engine))
        ix_profile_comment(&g_cpu.prof,
                           "descriptors: limit %ld, %ld in use at start; perf events keep %ld "
                           "free for the host: %llu threads got CPU-time timers past that "
                           "budget, %llu moved to timers when the host needed descriptors",
                           g_cpu.fd_limit, g_cpu.fd_at_start, g_cpu.fd_reserve,
                           (unsigned long long)g_cpu.budget_timers, (unsigned long long)g_cpu.shed);
    if (g_cpu.foreign[0])
        ix_profile_comment(&g_cpu.prof, "signal: not used, perf rings only (%s)", g_cpu.foreign);
    atomic_fetch_add(&t_threads, sampled);
}

/* CPU-time timers are checked on the scheduler tick, and only while their
 * thread runs: a thread that runs in short bursts may end the window with
 * expiries the kernel has not delivered yet. Each timer thread's periods are
 * known from its CPU time and first expiry; what its signals did not bring
 * is added as a frame of its own, on its thread. */
static void owe_undelivered(void)
{
    for (size_t i = 0; i < g_cpu.nthr; i++) {
        struct thr *t = &g_cpu.thr[i];
        long long used = t->cpu_stop - t->cpu0;
        if (!t->cpu_stop || used < t->first_ns)
            continue;
        uint64_t due = 1 + (uint64_t)((used - t->first_ns) / g_cpu.period_ns);
        uint64_t got = t->periods - t->periods0;
        if (due <= got)
            continue;
        int64_t w = (int64_t)(due - got);
        uintptr_t pc = ix_profile_pseudo_pc(&g_cpu.prof, "[timer expiries not delivered by the window's end]");
        int64_t values[2] = {w, w * g_cpu.period_ns};
        struct ix_label labels[2] = {{"thread", t->name, 0, NULL}, {"tid", NULL, t->tid, NULL}};
        if (pc)
            ix_profile_add(&g_cpu.prof, &pc, 1, values, labels, 2);
        t->periods += (uint64_t)w;
        g_cpu.owed += (uint64_t)w;
    }
}

void ix_cpu_stop(struct ix_profile *out)
{
    /* The window's CPU ends where sampling ends, not after the grace period
     * for signals in flight (ix_cpu_signal_restore) or the final drains. */
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    pthread_mutex_lock(&g_lock);
    atomic_store(&g_live, 0);
    if (g_cpu.engine && g_cpu.engine->per_thread && g_cpu.exited)
        g_cpu.tail_ns = dead_cpu_ns() - g_cpu.dead0_ns - g_cpu.hook_cpu_ns;
    for (size_t i = 0; i < g_cpu.nthr; i++)
        g_cpu.thr[i].cpu_stop = g_cpu.thr[i].alive && g_cpu.thr[i].arm.kind == IX_ARM_TIMER
                                ? thread_cpu_ns(g_cpu.thr[i].tid)
                                : 0;
    ix_cpu_signal_quiesce();
    if (g_cpu.engine && !g_cpu.engine->per_thread)
        g_cpu.engine->stop();
    for (size_t i = 0; i < g_cpu.nthr; i++)
        if (g_cpu.thr[i].alive) {
            release_thread(&g_cpu.thr[i]);
            memo_save(&g_cpu.thr[i]);
        }
    reap_zombies();
    ix_cpu_signal_restore();
    ix_unwind_tables_unhold(); /* no handler of this profile runs from here on */
    ix_cpu_ring_drain(&g_cpu.ring, add_record, NULL);
    owe_undelivered();
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
    pthread_mutex_unlock(&g_lock);
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
