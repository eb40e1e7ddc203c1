/* The async-signal-safe side of CPU sampling. Only this file's handler runs
 * in signal context; everything it touches is preallocated. */
#include "sampling/cpu/handler.h"
#include "introspect.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sampling/cpu/engine.h"
#include "labels/labels.h"
#include "stack/unwind.h"
#include "util/clock.h"
#include "util/errno_text.h"

static struct ix_cpu_ring *_Atomic g_ring;
static _Atomic unsigned g_accept;
static _Atomic int g_inflight;
static _Atomic uint64_t g_deliveries, g_periods, g_overruns, g_ignored;
static int g_sig;
static struct sigaction g_prev;
/* Timer periods recorded in this thread (initial-exec: no allocation on
 * first use, so the handler may touch it). */
static __thread uint64_t t_timer_periods /* and perf signals */ __attribute__((tls_model("initial-exec")));

/* The periods a signal stands for (0: not one of ours) and the sampled
 * thread, which the timer and perf engines name in the signal itself (a
 * gettid() system call is a tenth of the handler's cost). */
static int weight_of(const siginfo_t *si, unsigned accept, pid_t *tid)
{
    switch (si->si_code) {
    case SI_TIMER:
        if (!(accept & IX_ACCEPT_TIMER))
            return 0;
        *tid = si->si_value.sival_int;
        if (si->si_overrun > 0) {
            atomic_fetch_add_explicit(&g_overruns, (uint64_t)si->si_overrun, memory_order_relaxed);
            t_timer_periods += 1 + (uint64_t)si->si_overrun;
            return 1 + si->si_overrun;
        }
        t_timer_periods++;
        return 1;
    case POLL_IN:
    case POLL_HUP:
        if ((accept & IX_ACCEPT_PERF) && ix_cpu_perf_on_signal(si->si_fd, tid)) {
            t_timer_periods++;
            return 1;
        }
        return 0;
    case SI_KERNEL:
        if (!(accept & IX_ACCEPT_ITIMER))
            return 0;
        *tid = (pid_t)syscall(SYS_gettid); /* process-wide: whichever thread ran */
        return 1;
    default:
        return 0;
    }
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_acq_rel);
    unsigned accept = atomic_load_explicit(&g_accept, memory_order_acquire);
    struct ix_cpu_ring *ring = atomic_load_explicit(&g_ring, memory_order_acquire);
    pid_t tid = 0;
    int w = accept && ring ? weight_of(si, accept, &tid) : 0;
    if (w > 0) {
        atomic_fetch_add_explicit(&g_deliveries, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&g_periods, (uint64_t)w, memory_order_relaxed);
        struct ix_cpu_rec *rec = ix_cpu_ring_claim(ring);
        if (rec) {
            rec->tid = tid;
            rec->weight = w;
            rec->labels = ix_labels_current(); /* this thread's TLS: the sampled one */
            rec->ts = ix_mono_ns(); /* clock_gettime: async-signal-safe (a vDSO read) */
            rec->npcs = ix_unwind_signal(uc, rec->pcs, IX_CPU_MAX_DEPTH);
            ix_cpu_ring_publish(ring, rec);
        }
    } else {
        atomic_fetch_add_explicit(&g_ignored, 1, memory_order_relaxed);
    }
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_acq_rel);
    errno = saved;
}

static const char *handler_owner(const struct sigaction *sa, char *buf, size_t len)
{
    void *fn = (sa->sa_flags & SA_SIGINFO) ? (void *)sa->sa_sigaction : (void *)sa->sa_handler;
    snprintf(buf, len, "%p", fn);
    return buf;
}

int ix_cpu_signal_is_ours(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
           cur.sa_sigaction == on_signal;
}

int ix_cpu_signal_install(int sig, struct ix_cpu_ring *ring, char *why, size_t whylen)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) < 0) {
        snprintf(why, whylen, "sigaction(%d): %s", sig, ix_errno_text(errno));
        return INTROSPECT_ESYS;
    }
    int foreign = (cur.sa_flags & SA_SIGINFO) ? cur.sa_sigaction != on_signal
                                              : (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN);
    if (foreign) {
        char addr[32];
        snprintf(why, whylen,
                 "signal %d (%s) already has a handler at %s: another profiler (e.g. gperftools' "
                 "libprofiler) is using it; set INTROSPECT_CPU_SIGNAL to a free signal",
                 sig, sigdescr_np(sig) ? sigdescr_np(sig) : "real-time",
                 handler_owner(&cur, addr, sizeof addr));
        return INTROSPECT_ESIGNAL;
    }
    atomic_store(&g_accept, 0);
    atomic_store(&g_ring, ring);
    atomic_store(&g_deliveries, 0);
    atomic_store(&g_periods, 0);
    atomic_store(&g_overruns, 0);
    atomic_store(&g_ignored, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &g_prev) < 0) {
        snprintf(why, whylen, "sigaction(%d): %s", sig, ix_errno_text(errno));
        return INTROSPECT_ESYS;
    }
    g_sig = sig;
    return 0;
}

void ix_cpu_signal_accept(unsigned mask)
{
    atomic_store_explicit(&g_accept, mask, memory_order_release);
}

void ix_cpu_signal_quiesce(void)
{
    atomic_store(&g_accept, 0);
    /* A handler that loaded the old mask may still be writing its record. */
    struct timespec ts = {0, 100000};
    while (atomic_load(&g_inflight) > 0)
        nanosleep(&ts, NULL);
}

void ix_cpu_signal_restore(void)
{
    if (!g_sig)
        return;
    /* A signal generated just before the engine was disarmed may still be on
     * its way (queued behind a reschedule, or held by a ptrace tracer such as
     * strace): give it 20 ms to land in our handler, which ignores it now.
     * Then setting SIG_IGN discards whatever is still pending on any thread,
     * so the previous disposition (usually SIG_DFL: terminate) never sees one
     * of ours. */
    struct timespec grace = {0, 20000000};
    nanosleep(&grace, NULL);
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(g_sig, &ign, NULL);
    sigaction(g_sig, &g_prev, NULL);
    ix_cpu_signal_quiesce();
    atomic_store(&g_ring, NULL);
    g_sig = 0;
}

void ix_cpu_signal_thread_reset(void) { t_timer_periods = 0; }

uint64_t ix_cpu_signal_thread_periods(void) { return t_timer_periods; }

void ix_cpu_signal_counts(struct ix_cpu_sigcounts *c)
{
    c->deliveries = atomic_load(&g_deliveries);
    c->periods = atomic_load(&g_periods);
    c->overruns = atomic_load(&g_overruns);
    c->ignored = atomic_load(&g_ignored);
}
