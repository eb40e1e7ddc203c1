/* The off-CPU sampler (see sampling/block/offcpu.h). */
#include "labels/labels.h"
#include "sampling/block/offcpu.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "introspect.h"
#include "runtime.h"
#include "sampling/heap/heap.h"
#include "sampling/threads/blocked_walk.h"
#include "sampling/threads/list.h"
#include "sampling/threads/proc.h"
#include "stack/unwind_tables.h"
#include "util/clock.h"

#define MAX_THREADS 4096
#define MAX_FRAMES 64
#define MAX_SAMPLES 65536 /* distinct (stack, labels) kept; beyond: dropped, counted */

/* What the sampler remembers of each thread between ticks. */
struct tstate {
    pid_t tid;
    int seen;    /* tick generation that last listed it */
    long long last_ns; /* when it was last looked at */
    long long cpu_ns;  /* its CPU clock then (-1 unknown) */
    long long debt;    /* over-booked time owed by the next interval */
    int known;   /* a wait below was seen */
    int blocked; /* blocked at the previous tick: its wait is below */
    unsigned long long run_count, run_ns;
    unsigned long long runq; /* schedstat run delay at the previous tick */
    int have_sched;
    char name[32];
    /* The wait seen at the previous tick, charged with the time the thread
     * then spent runnable before it ran (its wake-up latency). */
    char call[24];
    int idle;
    int npcs;
    uintptr_t pcs[MAX_FRAMES];
};

/* pc -> "inside a condition-variable or semaphore wait", cached. */
#define IDLE_CACHE 1024
struct idle_slot {
    uintptr_t pc;
    int8_t idle;
};

struct ix_offcpu {
    struct ix_offcpu_options o;
    pthread_t thread;
    atomic_int stop;
    struct ix_profile prof;
    struct tstate *ts;
    int nts;
    struct idle_slot cache[IDLE_CACHE];
    long long t0, t1;
    uint64_t ticks, walked, raced, unreadable, dropped, late_ticks;
    long long interval_ns;
    uint32_t labels; /* label set of the thread being accounted (labels/labels.h) */
};

/* Is pc inside a wait for a condition variable or a semaphore (a thread
 * pool's worker waiting for work)? By the exported name of its function. */
static int idle_frame(struct ix_offcpu *s, uintptr_t pc)
{
    struct idle_slot *c = &s->cache[(pc >> 2) % IDLE_CACHE];
    if (c->pc == pc)
        return c->idle;
    int idle = 0;
    Dl_info di;
    if (dladdr((void *)(pc - 1), &di) && di.dli_sname) {
        const char *n = di.dli_sname;
        idle = strncmp(n, "pthread_cond_", 13) == 0 || strncmp(n, "__pthread_cond_", 15) == 0 ||
               strncmp(n, "sem_", 4) == 0 || strncmp(n, "__new_sem_", 10) == 0;
    }
    c->pc = pc;
    c->idle = (int8_t)idle;
    return idle;
}

static int idle_wait(struct ix_offcpu *s, int nr, const uintptr_t *pcs, int n)
{
    if (nr >= 0 && ix_syscall_idle(nr))
        return 1;
    if (nr != SYS_futex)
        return 0;
    for (int i = 1; i < n && i < 8; i++)
        if (idle_frame(s, pcs[i]))
            return 1;
    return 0;
}

/* A thread's CPU time (ns) through its CPU-time clock, or -1. */
static long long thread_cpu_ns(pid_t tid)
{
    /* The kernel's clock id of a thread's scheduler CPU clock
     * (MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)); valid for threads of
     * this process. */
    return ix_clock_ns((clockid_t)((~(unsigned)tid << 3) | 6));
}

static struct tstate *thread_state(struct ix_offcpu *s, pid_t tid)
{
    for (int i = 0; i < s->nts; i++)
        if (s->ts[i].tid == tid)
            return &s->ts[i];
    if (s->nts == MAX_THREADS)
        return NULL;
    struct tstate *t = &s->ts[s->nts++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->seen = -1;
    ix_thread_name(tid, t->name, sizeof t->name);
    return t;
}

static void add(struct ix_offcpu *s, const uintptr_t *pcs, int n, int64_t count, int64_t ns,
                const char *thread, const char *state, const char *idle, const char *missing)
{
    if (s->prof.nsamples >= MAX_SAMPLES) {
        s->dropped++;
        return;
    }
    struct ix_label l[4 + IX_LABELS_MAX_PAIRS] = {{"thread", thread, 0, NULL}, {"state", state, 0, NULL},
                                                  {"idle", idle, 0, NULL}, {"missing", missing, 0, NULL}};
    int nl = missing ? 4 : 3;
    const struct ix_labelset *ls = ix_labelset_get(s->labels);
    for (int i = 0; ls && i < ls->n; i++)
        l[nl++] = (struct ix_label){ls->keys[i], ls->vals[i], 0, NULL};
    int64_t v[2] = {count, ns};
    uintptr_t none = 0;
    ix_profile_add(&s->prof, n ? pcs : &none, n, v, l, nl);
}

/* The wait a thread was last seen in (stack and labels). */
static void remember_wait(struct tstate *t, const char *call, int idle, const uintptr_t *pcs,
                          int n)
{
    snprintf(t->call, sizeof t->call, "%s", call);
    t->idle = idle;
    t->npcs = n;
    memcpy(t->pcs, pcs, (size_t)n * sizeof pcs[0]);
    t->known = 1;
}

/* One thread at one tick. With schedstat (the normal case) the interval
 * since the previous tick is split exactly into time on a CPU, time runnable
 * and time blocked (the rest); only where is sampled:
 *  - blocked time goes to the wait seen now, else to the wait seen at the
 *    previous tick, else (it blocked and woke between two ticks) to the wait
 *    it was last seen in;
 *  - runnable time after a wait is that wait's wake-up latency: the wait's
 *    stack, state "runnable" (as Go's block delay counts until the goroutine
 *    runs); runnable time with no wait in the interval is preemption, kept
 *    (wall profiles only) as a stackless "runnable" sample;
 *  - time on a CPU is kept (wall profiles only) as a stackless "oncpu"
 *    sample per thread, which the wall profile uses to scale the CPU
 *    profiler's samples to the exact CPU time.
 * Without schedstat, the state at the tick is charged the whole interval. */
static void account(struct ix_offcpu *s, struct tstate *t, const struct ix_bwalk_result *r,
                    const uintptr_t *pcs, long long now, int gen)
{
    int fresh = t->seen < 0;
    /* The thread's labels now, from its change log (never its live TLS);
     * a thread blocked since the last tick has not changed them. */
    s->labels = ix_labels_at(t->tid, now);
    if (s->labels == IX_LABELS_UNKNOWN)
        s->labels = 0;
    long long dt = fresh ? 0 : now - t->last_ns;
    t->last_ns = now;
    t->seen = gen;
    int ran = fresh || r->run_count != t->run_count || r->run_ns != t->run_ns;
    int exact = !fresh && r->have_sched && t->have_sched;
    /* CPU time from the thread's CPU clock (current slice included, unlike
     * schedstat's, which lags by up to a scheduler tick while it runs). */
    long long cpu_now = thread_cpu_ns(t->tid);
    long long cpu = exact && cpu_now >= 0 && t->cpu_ns >= 0 ? cpu_now - t->cpu_ns
                    : exact ? (long long)(r->run_ns - t->run_ns) : 0;
    t->cpu_ns = cpu_now;
    long long runq = exact ? (long long)(r->runq_wait_ns - t->runq) : 0;
    t->run_count = r->run_count;
    t->run_ns = r->run_ns;
    t->runq = r->runq_wait_ns;
    t->have_sched = r->have_sched;
    int was_blocked = t->blocked;
    t->blocked = 0;

    const char *call = NULL;
    char other[24];
    int idle = 0;
    if (r->status == IX_BWALK_OK) {
        s->walked++;
        call = r->sys.syscall_nr < 0 ? "blocked" : ix_syscall_name(r->sys.syscall_nr);
        if (!call) {
            snprintf(other, sizeof other, "syscall_%d", r->sys.syscall_nr);
            call = other;
        }
        idle = idle_wait(s, r->sys.syscall_nr, pcs, r->npcs);
    } else if (r->status == IX_BWALK_RACED) {
        s->raced++;
    } else if (r->status == IX_BWALK_UNREADABLE || r->status == IX_BWALK_NOSTACK) {
        s->unreadable++;
    }
    if (fresh) { /* not there for a whole interval: only remember it */
        if (call) {
            t->blocked = 1;
            remember_wait(t, call, idle, pcs, r->npcs);
        }
        return;
    }
    if (!exact) { /* no schedstat: the state at the tick stands for the interval */
        if (call)
            add(s, pcs, r->npcs, (ran || !was_blocked) ? 1 : 0, dt, t->name, call,
                idle ? "true" : "false", NULL);
        else if (r->status == IX_BWALK_RACED)
            add(s, NULL, 0, 1, dt, t->name, "raced", "false", "raced");
    } else {
        /* Run delay is booked when a wait for a CPU ends, so an interval
         * can show more than it holds: the excess is owed by the next one. */
        long long blocked = dt - cpu - runq + t->debt;
        t->debt = 0;
        if (blocked < 0) {
            t->debt = blocked;
            blocked = 0;
        }
        if (cpu < 0)
            cpu = 0;
        /* Blocked time: the wait seen now, else before, else the last one. */
        if (blocked > 0) {
            if (call)
                add(s, pcs, r->npcs, (ran || !was_blocked) ? 1 : 0, blocked, t->name, call,
                    idle ? "true" : "false", NULL);
            else if (t->known)
                add(s, t->pcs, t->npcs, 1, blocked, t->name, t->call,
                    t->idle ? "true" : "false", NULL);
            else
                add(s, NULL, 0, 1, blocked, t->name, "blocked", "false", "unknown");
        }
        /* Runnable time: after a wait on that wait's stack, else preemption. */
        if (runq > 0) {
            if ((was_blocked || (blocked > 0 && !call)) && t->known)
                add(s, t->pcs, t->npcs, 0, runq, t->name, "runnable",
                    t->idle ? "true" : "false", NULL);
            else if (blocked > 0 && call)
                add(s, pcs, r->npcs, 0, runq, t->name, "runnable", idle ? "true" : "false",
                    NULL);
            else if (s->o.runq)
                add(s, NULL, 0, 0, runq, t->name, "runnable", "false", NULL);
        }
        if (s->o.runq && cpu > 0)
            add(s, NULL, 0, 0, cpu, t->name, "oncpu", "false", NULL);
    }
    if (call) {
        t->blocked = 1;
        remember_wait(t, call, idle, pcs, r->npcs);
    }
}

static void tick(struct ix_offcpu *s, pid_t self, pid_t *tids, struct ix_bwalk_scratch *scratch,
                 int gen)
{
    uintptr_t pcs[MAX_FRAMES];
    int n = ix_thread_list(tids, MAX_THREADS);
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    for (int i = 0; i < n; i++) {
        if (tids[i] == self)
            continue;
        struct tstate *t = thread_state(s, tids[i]);
        if (!t)
            continue;
        struct ix_bwalk_result r;
        long long now = ix_mono_ns();
        ix_blocked_walk(tids[i], scratch, pcs, MAX_FRAMES, &r);
        if (r.status == IX_BWALK_GONE)
            continue;
        account(s, t, &r, pcs, now, gen);
    }
    /* Forget threads that exited (not listed this tick). */
    for (int i = 0; i < s->nts;) {
        if (s->ts[i].seen == gen) {
            i++;
            continue;
        }
        s->ts[i] = s->ts[--s->nts];
    }
}

static void *sampler_main(void *arg)
{
    struct ix_offcpu *s = arg;
    ix_heap_exclude_begin(); /* the sampler's own allocations stay out of heap profiles */
    pid_t self = ix_gettid();
    pid_t *tids = malloc(MAX_THREADS * sizeof *tids);
    struct ix_bwalk_scratch scratch = {0};
    long long next = s->t0;
    int gen = 0;
    while (tids && !atomic_load(&s->stop)) {
        ix_unwind_tables_update(); /* cheap unless objects came or went */
        tick(s, self, tids, &scratch, gen++);
        s->ticks++;
        next += s->interval_ns;
        long long now = ix_mono_ns();
        if (next < now) { /* the tick overran: keep the period, skip the missed ones */
            s->late_ticks++;
            next = now + s->interval_ns;
        }
        struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0 &&
               !atomic_load(&s->stop))
            ;
    }
    /* Close the last interval. */
    if (tids) {
        tick(s, self, tids, &scratch, gen++);
        s->t1 = ix_mono_ns();
    }
    free(tids);
    ix_bwalk_scratch_free(&scratch);
    ix_heap_exclude_end();
    return NULL;
}

int ix_offcpu_start(const struct ix_offcpu_options *o, struct ix_offcpu **out)
{
    *out = NULL;
    if (o->hz < 1 || o->hz > IX_OFFCPU_MAX_HZ)
        return INTROSPECT_EINVAL;
    struct ix_offcpu *s = calloc(1, sizeof *s);
    if (!s)
        return INTROSPECT_ENOMEM;
    s->ts = calloc(MAX_THREADS, sizeof *s->ts);
    if (!s->ts) {
        free(s);
        return INTROSPECT_ENOMEM;
    }
    s->o = *o;
    s->interval_ns = 1000000000LL / o->hz;
    ix_profile_init(&s->prof, "offcpu");
    ix_profile_add_type(&s->prof, "contentions", "count");
    ix_profile_add_type(&s->prof, "delay", "nanoseconds");
    s->prof.period_type = (struct ix_value_type){"delay", "nanoseconds"};
    s->prof.period = s->interval_ns;
    s->prof.default_type = 1;
    ix_unwind_tables_hold(); /* let go in ix_offcpu_stop */
    s->t0 = ix_mono_ns();
    s->prof.time_nanos = (int64_t)(ix_now() * 1e9);
    /* The new thread inherits a full signal mask: no host signal is ever
     * delivered to it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        ix_unwind_tables_unhold();
        ix_profile_free(&s->prof);
        free(s->ts);
        free(s);
        return INTROSPECT_ESYS;
    }
    pthread_setname_np(s->thread, "introspect-off");
    *out = s;
    return 0;
}

void ix_offcpu_stop(struct ix_offcpu *s, struct ix_profile *out)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    ix_unwind_tables_unhold();
    s->prof.duration_nanos = s->t1 - s->t0;
    ix_profile_comment(&s->prof,
                       "method: sampling blocked threads' stacks without a signal every %.1f ms "
                       "(/proc/self/task/*/syscall SP/PC + CFI walk of a stack copy), each "
                       "weighted by the time since the previous tick; kernel context-switch "
                       "records are not used (perf refuses them without privileges)",
                       (double)s->interval_ns / 1e6);
    ix_profile_comment(&s->prof,
                       "ticks %llu (late %llu), walked %llu, raced %llu, unreadable %llu, "
                       "dropped %llu",
                       (unsigned long long)s->ticks, (unsigned long long)s->late_ticks,
                       (unsigned long long)s->walked, (unsigned long long)s->raced,
                       (unsigned long long)s->unreadable, (unsigned long long)s->dropped);
    *out = s->prof;
    free(s->ts);
    free(s);
}
