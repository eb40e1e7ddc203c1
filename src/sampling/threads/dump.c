/* The collector side of the thread dump (see sampling/threads/dump.h and
 * sampling/threads/dump_slots.h for the protocol). */
#include "sampling/threads/dump.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"
#include "config.h"
#include "host/threads.h"
#include "util/clock.h"
#include "sampling/threads/blocked_walk.h"
#include "sampling/threads/dump_slots.h"
#include "sampling/threads/list.h"
#include "stack/unwind.h"
#include "stack/unwind_tables.h"
#include "util/errno_text.h"

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_signal;                 /* installed and usable, 0 = none */
static char g_problem[160];          /* why not, when g_signal == 0 */
static atomic_int g_busy;            /* one dump at a time */
static uint64_t g_gen;               /* request generation (under g_busy) */
static _Atomic uint64_t g_dumps;

/* How long each thread has been in its state. /proc has no such field, so
 * it is remembered across dumps: a thread seen in the same state by the
 * previous dump, that has not blocked again since (its voluntary context
 * switches grew by at most the one our own signal caused), has been in that
 * state at least since the first dump that saw it there. Otherwise the time
 * is unknown (and the clock starts now). */
struct seen {
    pid_t tid;
    char state;
    int signalled;
    unsigned long long starttime;
    unsigned long long vcsw;
    long long since_ns;
};
static struct seen *g_seen; /* under g_busy */
static int g_nseen;

int ix_thread_dump_setup(int sig, char *why, size_t whylen)
{
    int rc = 0;
    pthread_mutex_lock(&setup_lock);
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) {
        snprintf(g_problem, sizeof g_problem, "dump signal %d: %s", sig, ix_errno_text(errno));
        rc = INTROSPECT_ESIGNAL;
    } else if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == ix_dump_signal_handler) {
        g_signal = sig; /* installed by an earlier start */
    } else if ((old.sa_flags & SA_SIGINFO) ||
               (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
        snprintf(g_problem, sizeof g_problem,
                 "dump signal %d is owned by another handler; choose another with "
                 "INTROSPECT_DUMP_SIGNAL",
                 sig);
        rc = INTROSPECT_ESIGNAL;
    } else {
        /* SA_RESTART: system calls the signal interrupts are restarted where
         * the kernel allows it. SA_ONSTACK: threads with an alternate stack
         * (small stacks, guard handling) run the handler there. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = ix_dump_signal_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        /* Other async signals wait for the handler; synchronous ones stay
         * deliverable so a fault still reaches the host's crash handler. */
        sigfillset(&sa.sa_mask);
        sigdelset(&sa.sa_mask, SIGSEGV);
        sigdelset(&sa.sa_mask, SIGBUS);
        sigdelset(&sa.sa_mask, SIGILL);
        sigdelset(&sa.sa_mask, SIGFPE);
        if (sigaction(sig, &sa, NULL) != 0) {
            snprintf(g_problem, sizeof g_problem, "cannot install dump signal %d: %s", sig,
                     ix_errno_text(errno));
            rc = INTROSPECT_ESIGNAL;
        } else {
            g_signal = sig;
        }
    }
    /* Our handler owns it: module threads born from now on leave it open,
     * so dumps show their stacks too (docs/signals.md). */
    ix_module_open_signal(rc ? 0 : sig);
    if (rc) {
        g_signal = 0;
        if (why)
            snprintf(why, whylen, "%s", g_problem);
    } else {
        g_problem[0] = '\0';
    }
    pthread_mutex_unlock(&setup_lock);
    return rc;
}

void ix_thread_dump_counters(uint64_t *dumps, uint64_t *late)
{
    *dumps = atomic_load(&g_dumps);
    *late = atomic_load(&ix_dump_late);
}

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

static int send_request(pid_t tid, int sig, uint64_t payload)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_ptr = (void *)(uintptr_t)payload;
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, &si) == 0)
        return 0;
    return errno;
}

/* Decide whether to signal a thread, from what /proc says about it. */
static int precheck(const struct ix_thread_proc *p, int sig, int flags)
{
    if (!p->exists)
        return IX_STACK_EXITED;
    if (p->state == 'Z' || p->state == 'X')
        return IX_STACK_ZOMBIE;
    if (p->state == 'T' || p->state == 't')
        return IX_STACK_STOPPED;
    if (!sig)
        return IX_STACK_NOSIGNAL;
    if (p->have_sigblk && (p->sigblk >> (sig - 1)) & 1)
        return IX_STACK_BLOCKED;
    if ((flags & IX_DUMP_SPARE_EINTR) && !p->syscall_running && p->syscall_nr >= 0 &&
        ix_syscall_eintr_always(p->syscall_nr))
        return IX_STACK_SPARED;
    /* Unreadable syscall file (a non-dumpable process): wchan still says
     * the thread sleeps in such a call. Whatever the state said: wchan is
     * read after it and is empty while a thread runs, so a name there means
     * a thread seen running has entered the call since. */
    if ((flags & IX_DUMP_SPARE_EINTR) && !p->syscall_readable && ix_wchan_eintr_always(p->wchan))
        return IX_STACK_SPARED;
    return -1; /* signal it */
}

/* Slots armed for this dump: entry index -> slot index. */
struct armed {
    int entry;
    int slot;
};

static int next_free_slot(int from)
{
    for (int s = from; s < IX_DUMP_MAX_THREADS; s++)
        if (IX_SLOT_STATE(atomic_load(&ix_dump_slots[s].word)) != IX_SLOT_WRITING)
            return s;
    return -1;
}

static void take_slot(struct ix_thread_entry *e, struct ix_dump_slot *s)
{
    e->npcs = s->npcs;
    if (e->npcs > IX_DUMP_MAX_FRAMES)
        e->npcs = IX_DUMP_MAX_FRAMES;
    memcpy(e->pcs, s->pcs, (size_t)e->npcs * sizeof e->pcs[0]);
    e->status = IX_STACK_OK;
}

/* Wait for the armed slots, then abandon the rest. */
static void collect(struct ix_thread_dump *d, struct armed *a, int na, uint64_t gen)
{
    long long deadline = ix_mono_ns() + (long long)d->timeout_ms * 1000000LL;
    int pending = na;
    long us = 50;
    while (pending > 0 && ix_mono_ns() < deadline) {
        sleep_us(us);
        if (us < 2000)
            us *= 2;
        pending = 0;
        for (int i = 0; i < na; i++)
            if (atomic_load_explicit(&ix_dump_slots[a[i].slot].word, memory_order_acquire) !=
                IX_SLOT_WORD(gen, IX_SLOT_DONE))
                pending++;
    }
    for (int i = 0; i < na; i++) {
        struct ix_dump_slot *s = &ix_dump_slots[a[i].slot];
        struct ix_thread_entry *e = &d->threads[a[i].entry];
        uint64_t want = IX_SLOT_WORD(gen, IX_SLOT_ARMED);
        if (atomic_compare_exchange_strong(&s->word, &want, IX_SLOT_WORD(gen, IX_SLOT_FREE))) {
            /* Never answered: gone, or still not scheduled / signal blocked since. */
            struct ix_thread_proc now;
            e->status = ix_thread_proc_read(e->proc.tid, &now) ? IX_STACK_EXITED
                                                                : IX_STACK_TIMEOUT;
            continue;
        }
        /* Answered, or mid-unwind: give a writer a short grace period. */
        for (int k = 0; k < 50 && IX_SLOT_STATE(atomic_load(&s->word)) == IX_SLOT_WRITING; k++)
            sleep_us(1000);
        if (atomic_load_explicit(&s->word, memory_order_acquire) ==
            IX_SLOT_WORD(gen, IX_SLOT_DONE))
            take_slot(e, s);
        else
            e->status = IX_STACK_TIMEOUT; /* the slot stays busy until its writer ends */
    }
}

/* Fill state_for_s from the previous dumps and remember this one. */
static void track_states(struct ix_thread_dump *d, long long now)
{
    struct seen *next = calloc((size_t)d->n + 1, sizeof *next);
    for (int i = 0; i < d->n; i++) {
        struct ix_thread_proc *p = &d->threads[i].proc;
        long long since = now;
        d->threads[i].state_for_s = -1;
        for (int k = 0; k < g_nseen; k++) {
            const struct seen *o = &g_seen[k];
            if (o->tid != p->tid)
                continue;
            if (o->starttime == p->starttime && o->state == p->state &&
                p->voluntary_switches <= o->vcsw + (unsigned long long)o->signalled) {
                since = o->since_ns;
                d->threads[i].state_for_s = (double)(now - since) / 1e9;
            }
            break;
        }
        int st = d->threads[i].status;
        int signalled = st == IX_STACK_OK || st == IX_STACK_TIMEOUT;
        if (next)
            next[i] = (struct seen){p->tid, p->state, signalled, p->starttime,
                                    p->voluntary_switches, since};
    }
    free(g_seen);
    g_seen = next;
    g_nseen = next ? d->n : 0;
}

/* A running thread that blocks the dump signal cannot be signalled: give it
 * a few milliseconds to block (most threads run briefly between waits) and
 * walk it then. Returns 1 when walked. */
static int walk_when_blocked(struct ix_thread_entry *e, pid_t tid, struct ix_bwalk_scratch *s)
{
    for (int k = 0; k < 20; k++) {
        struct ix_bwalk_result r;
        ix_blocked_walk(tid, s, e->pcs, IX_DUMP_MAX_FRAMES, &r);
        if (r.status == IX_BWALK_OK) {
            e->npcs = r.npcs;
            e->walk_end = r.end;
            e->status = IX_STACK_WALKED;
            e->proc.syscall_running = 0;
            e->proc.syscall_nr = r.sys.syscall_nr;
            e->proc.syscall_sp = r.sys.syscall_sp;
            e->proc.syscall_pc = r.sys.syscall_pc;
            memcpy(e->proc.syscall_args, r.sys.syscall_args, sizeof e->proc.syscall_args);
            return 1;
        }
        if (r.status != IX_BWALK_RUNNING && r.status != IX_BWALK_RACED)
            return 0;
        sleep_us(500);
    }
    e->npcs = 0;
    return 0;
}

/* The signal-free walk of a thread /proc shows blocked in a system call.
 * Returns 1 when that settled the thread (walked, exited, or raced and must
 * be spared); 0 when it must be signalled (it is running). */
static int try_walk(struct ix_thread_entry *e, pid_t tid, int flags, struct ix_bwalk_scratch *s)
{
    if ((flags & IX_DUMP_NO_WALK) || !e->proc.exists || e->proc.state == 'Z' ||
        e->proc.state == 'X' || !e->proc.syscall_readable || e->proc.syscall_running)
        return 0;
    struct ix_bwalk_result r;
    ix_blocked_walk_seen(tid, &e->proc, s, e->pcs, IX_DUMP_MAX_FRAMES, &r); /* e->proc: just read */
    if (r.status == IX_BWALK_OK) {
        e->npcs = r.npcs;
        e->walk_end = r.end;
        e->status = IX_STACK_WALKED;
        return 1;
    }
    if (r.status == IX_BWALK_GONE) {
        e->status = IX_STACK_EXITED;
        return 1;
    }
    if (r.status == IX_BWALK_RACED && (flags & IX_DUMP_SPARE_EINTR)) {
        e->status = IX_STACK_RACED;
        return 1;
    }
    if (r.status == IX_BWALK_RUNNING) { /* woke meanwhile: signal it as running */
        e->proc.syscall_running = 1;
        e->proc.syscall_nr = -1;
    }
    return 0;
}

/* "running" in the syscall file means on a CPU or waiting for one, and the
 * latter includes a thread just woken from poll() or epoll_wait() that has
 * not yet left the kernel: a signal then ends that call with EINTR although
 * it had timed out or had events (the kernel checks for a pending signal
 * before returning). So a thread seen running is signalled only once it has
 * been seen to run (its CPU time grew: it left any such call), or is found
 * blocked and walked instead. The waiting is bounded per dump: past the
 * budget, running threads are signalled at once (a thread preempted in user
 * code is safe to signal; only the tail of a wait is not). */
#define SETTLE_BUDGET_US 30000
#define SETTLE_STEP_US 250

/* The last look before a signal: the syscall file when readable (blocked:
 * walked instead); else (a non-dumpable process) wchan, asleep in a call a
 * signal would end: spared. Returns 1 when that settled the thread. */
static int last_look(struct ix_thread_entry *e, pid_t tid, int flags, struct ix_bwalk_scratch *s)
{
    if (e->proc.syscall_readable) {
        ix_thread_syscall_read(tid, &e->proc);
        return try_walk(e, tid, flags, s);
    }
    ix_thread_wchan_read(tid, &e->proc);
    if (!ix_wchan_eintr_always(e->proc.wchan))
        return 0;
    e->status = IX_STACK_SPARED;
    return 1;
}

static int settle(struct ix_thread_entry *e, pid_t tid, int flags, struct ix_bwalk_scratch *s,
                  long *budget_us)
{
    unsigned long long ran = ix_thread_ran_ns(tid);
    for (;;) {
        if (last_look(e, tid, flags, s))
            return 1;
        if (!ran || *budget_us <= 0)
            return 0;
        sleep_us(SETTLE_STEP_US);
        *budget_us -= SETTLE_STEP_US;
        if (ix_thread_ran_ns(tid) != ran) /* it ran: out of any wait's tail; one more look */
            return last_look(e, tid, flags, s);
    }
}

static int capture(struct ix_thread_dump *d, pid_t *tids, int ntids, int flags,
                   struct ix_bwalk_scratch *scratch)
{
    struct armed *a = calloc((size_t)ntids + 1, sizeof *a);
    if (!a)
        return INTROSPECT_ENOMEM;
    int na = 0, slot = 0;
    pid_t self = ix_gettid();
    uint64_t gen = ++g_gen;
    long settle_budget_us = SETTLE_BUDGET_US;
    for (int i = 0; i < ntids; i++) {
        struct ix_thread_entry *e = &d->threads[d->n++];
        ix_thread_proc_read(tids[i], &e->proc);
        e->proc.tid = tids[i];
        if (tids[i] == self && e->proc.exists) {
            e->npcs = ix_unwind_here(e->pcs, IX_DUMP_MAX_FRAMES, 0);
            e->status = IX_STACK_SELF;
            continue;
        }
        if (try_walk(e, tids[i], flags, scratch))
            continue;
        int st = precheck(&e->proc, d->signal, flags);
        if (st == IX_STACK_BLOCKED && !(flags & IX_DUMP_NO_WALK) &&
            walk_when_blocked(e, tids[i], scratch))
            continue;
        if (st >= 0) {
            e->status = st;
            continue;
        }
        slot = slot >= 0 ? next_free_slot(slot) : -1;
        if (slot < 0) {
            e->status = IX_STACK_LIMIT;
            continue;
        }
        if ((flags & IX_DUMP_SPARE_EINTR) && !(flags & IX_DUMP_NO_WALK) &&
            settle(e, tids[i], flags, scratch, &settle_budget_us))
            continue;
        struct ix_dump_slot *s = &ix_dump_slots[slot];
        s->npcs = 0;
        atomic_store_explicit(&s->word, IX_SLOT_WORD(gen, IX_SLOT_ARMED), memory_order_release);
        int err = send_request(tids[i], d->signal, IX_PAYLOAD(gen, slot));
        if (err) {
            atomic_store(&s->word, IX_SLOT_WORD(gen, IX_SLOT_FREE));
            e->status = err == ESRCH ? IX_STACK_EXITED : IX_STACK_SENDFAIL;
            continue;
        }
        a[na++] = (struct armed){d->n - 1, slot};
        slot++;
    }
    collect(d, a, na, gen);
    free(a);
    return 0;
}

int ix_thread_dump_take(struct ix_thread_dump *d, int timeout_ms, int flags)
{
    memset(d, 0, sizeof *d);
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_busy, &expected, 1))
        return INTROSPECT_EBUSY;
    long long t0 = ix_mono_ns();
    d->timeout_ms = timeout_ms;
    d->time_ns = ix_real_ns();
    pthread_mutex_lock(&setup_lock);
    d->signal = g_signal;
    if (!g_signal)
        snprintf(d->signal_problem, sizeof d->signal_problem, "%s",
                 g_problem[0] ? g_problem : "the thread dump module is not started");
    pthread_mutex_unlock(&setup_lock);
    int rc = INTROSPECT_ENOMEM;
    pid_t *tids = malloc(IX_DUMP_MAX_LISTED * sizeof *tids);
    int total = tids ? ix_thread_list(tids, IX_DUMP_MAX_LISTED) : -1;
    d->total = total < 0 ? 0 : total;
    int listed = d->total < IX_DUMP_MAX_LISTED ? d->total : IX_DUMP_MAX_LISTED;
    /* Entries are ~1 KB: size them to the threads there are. */
    d->threads = tids ? calloc((size_t)listed + 1, sizeof *d->threads) : NULL;
    struct ix_bwalk_scratch scratch = {0};
    int walk = !(flags & IX_DUMP_NO_WALK);
    if (walk)
        ix_unwind_tables_hold(); /* cheap when no object came or went */
    if (d->threads)
        rc = capture(d, tids, listed, flags, &scratch);
    if (walk)
        ix_unwind_tables_unhold();
    ix_bwalk_scratch_free(&scratch);
    free(tids);
    if (rc == 0)
        track_states(d, ix_mono_ns());
    d->duration_ns = ix_mono_ns() - t0;
    atomic_fetch_add(&g_dumps, 1);
    atomic_store(&g_busy, 0);
    if (rc)
        ix_thread_dump_free(d);
    return rc;
}

void ix_thread_dump_free(struct ix_thread_dump *d)
{
    free(d->threads);
    d->threads = NULL;
    d->n = 0;
}

/* In a forked child: a dump the parent was taking is not ours to finish. */
void ix_thread_dump_forked(void)
{
    atomic_store(&g_busy, 0);
    ix_thread_proc_forked();
}

/* Module start: install the dump signal. Never fails the server: when the
 * signal is owned by someone else, dumps list threads from /proc only and
 * say why. */
int ix_thread_dump_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)why;
    (void)whylen;
    ix_thread_dump_setup(cfg->dump_signal, NULL, 0);
    ix_thread_proc_allow_window(cfg->walk_nondumpable);
    return 0;
}
