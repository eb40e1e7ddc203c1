/* The per-thread POSIX CPU-timer engine (see sampling/cpu/engine.h). */
#include "sampling/cpu/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sampling/threads/list.h"
#include "introspect.h"
#include "util/errno_text.h"

/* The kernel's clock id for one thread's CPU time (CPUCLOCK_SCHED,
 * CPUCLOCK_PERTHREAD): what pthread_getcpuclockid() returns, built from a tid
 * so threads need not cooperate. */
static clockid_t thread_cpu_clock(pid_t tid)
{
    return (clockid_t)(((unsigned)~tid << 3) | 6);
}

static int timer_arm(pid_t tid, long period_ns, long first_ns, int sig, struct ix_cpu_arm *a)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = sig;
    sev._sigev_un._tid = tid;
    sev.sigev_value.sival_int = tid; /* the handler's tid, without a gettid() per sample */
    timer_t t;
    if (timer_create(thread_cpu_clock(tid), &sev, &t) < 0)
        return -errno;
    struct itimerspec its = {
        {period_ns / 1000000000L, period_ns % 1000000000L},
        {first_ns / 1000000000L, first_ns % 1000000000L},
    };
    if (timer_settime(t, 0, &its, NULL) < 0) {
        int e = errno;
        timer_delete(t);
        return -e;
    }
    a->kind = IX_ARM_TIMER;
    a->timer = t;
    a->fd = -1;
    return 0;
}

static int timer_probe(int sig, char *why, size_t whylen)
{
    struct ix_cpu_arm a;
    int rc = timer_arm(ix_gettid(), 1000000000L, 1000000000L, sig, &a);
    if (rc) {
        snprintf(why, whylen, "timer_create on the thread CPU clock: %s", ix_errno_text(-rc));
        return INTROSPECT_ESYS;
    }
    ix_cpu_disarm(&a);
    return 0;
}

const struct ix_cpu_engine ix_cpu_engine_timer = {
    "timer", "POSIX timer on each thread's CPU clock (checked on the scheduler tick)", 1,
    timer_probe, timer_arm, NULL, NULL,
};
