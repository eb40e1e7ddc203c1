/* The CPU sampler's signal handler and its installation. The handler is
 * async-signal-safe: it tells the engine's deliveries apart by si_code
 * (perf: POLL_IN/POLL_HUP with si_fd; timer: SI_TIMER with si_overrun;
 * itimer: SI_KERNEL), ignores anything else (kill -PROF, stray signals),
 * unwinds straight into a claimed ring record and preserves errno. */
#ifndef IX_CPU_SIGNAL_H
#define IX_CPU_SIGNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sampling/cpu/sample_ring.h"

enum { IX_ACCEPT_PERF = 1, IX_ACCEPT_TIMER = 2, IX_ACCEPT_ITIMER = 4 };

struct ix_cpu_sigcounts {
    uint64_t deliveries; /* signals that became (or tried to become) a sample */
    uint64_t periods;    /* sampling periods they stand for (>= deliveries) */
    uint64_t overruns;   /* timer expiries folded into a late signal (si_overrun) */
    uint64_t ignored;    /* signals that were not ours */
};

/* Install the handler for sig, feeding ring. Refuses (returns
 * INTROSPECT_ESIGNAL and a one-line reason) when another handler is installed
 * for sig: another profiler (gperftools' libprofiler, ...) would silently
 * break. Returns 0, INTROSPECT_ESIGNAL or INTROSPECT_ESYS (sigaction failed). */
int ix_cpu_signal_install(int sig, struct ix_cpu_ring *ring, char *why, size_t whylen);
/* Which deliveries to record (IX_ACCEPT_*); 0 stops recording. */
void ix_cpu_signal_accept(unsigned mask);
/* Stop recording and wait until no handler is running any more. */
void ix_cpu_signal_quiesce(void);
/* Discard pending signals (SIG_IGN) and restore the previous disposition. */
void ix_cpu_signal_restore(void);
/* Counters since install. */
void ix_cpu_signal_counts(struct ix_cpu_sigcounts *c);
/* The calling thread's timer periods recorded since its last reset (the
 * handler counts them in the thread it samples). */
void ix_cpu_signal_thread_reset(void);
uint64_t ix_cpu_signal_thread_periods(void);
/* 1 when sig's current handler is ours. */
int ix_cpu_signal_is_ours(int sig);

#endif
