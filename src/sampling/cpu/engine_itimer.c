/* The process-wide ITIMER_PROF engine, the last resort (see sampling/cpu/engine.h). */
#include "sampling/cpu/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "introspect.h"
#include "util/errno_text.h"

static int itimer_probe(int sig, char *why, size_t whylen)
{
    if (sig != SIGPROF) {
        snprintf(why, whylen, "the itimer engine can only send SIGPROF, not signal %d", sig);
        return INTROSPECT_EINVAL;
    }
    struct itimerval cur;
    if (getitimer(ITIMER_PROF, &cur) == 0 &&
        (cur.it_value.tv_sec || cur.it_value.tv_usec || cur.it_interval.tv_usec ||
         cur.it_interval.tv_sec)) {
        snprintf(why, whylen, "ITIMER_PROF is already running (another profiler in the process?)");
        return INTROSPECT_EBUSY;
    }
    return 0;
}

static int itimer_start(long period_ns, int sig, char *why, size_t whylen)
{
    (void)sig;
    long us = period_ns / 1000;
    if (us < 1)
        us = 1;
    struct itimerval it = {{us / 1000000, us % 1000000}, {us / 1000000, us % 1000000}};
    if (setitimer(ITIMER_PROF, &it, NULL) < 0) {
        snprintf(why, whylen, "setitimer(ITIMER_PROF): %s", ix_errno_text(errno));
        return INTROSPECT_ESYS;
    }
    return 0;
}

static void itimer_stop(void)
{
    struct itimerval zero;
    memset(&zero, 0, sizeof zero);
    setitimer(ITIMER_PROF, &zero, NULL);
}

const struct ix_cpu_engine ix_cpu_engine_itimer = {
    "itimer", "process-wide setitimer(ITIMER_PROF), delivered to whichever thread runs", 0,
    itimer_probe, NULL, itimer_start, itimer_stop,
};
