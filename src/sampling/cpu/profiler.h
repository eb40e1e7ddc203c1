/* The CPU profiler: one profile at a time, driven by the thread that asked
 * for it (the HTTP handler). Start picks and arms an engine, poll (every
 * ~10 ms) arms threads that appeared, releases those that exited and drains
 * the ring into the profile, stop disarms everything, restores the signal
 * and hands over the profile. Knows nothing of HTTP. */
#ifndef IX_CPU_PROFILER_H
#define IX_CPU_PROFILER_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"
#include "sampling/cpu/sample_ring.h"


struct ix_cpu_options {
    long hz;
    long seconds;       /* planned length, for Retry-After of concurrent requests */
    const char *engine; /* "auto", "perf", "perf-signal", "timer", "itimer" */
    int sig;
    /* Optional: called with every sample as it is drained (on the thread
     * that polls or stops the profile, under the profiler's lock), before
     * it is aggregated: the execution trace keeps each sample's time and
     * thread (sampling/trace/window.c). A record's ts is 0 when unknown. */
    void (*tap)(const struct ix_cpu_rec *rec, void *arg);
    void *tap_arg;
};

/* Returns 0 or, with a one-line reason in why: INTROSPECT_EBUSY (another CPU
 * profile is running), INTROSPECT_ESIGNAL (the signal belongs to someone
 * else), INTROSPECT_ESYS (no engine, or not the forced one, can run),
 * INTROSPECT_ENOMEM. */
int ix_cpu_start(const struct ix_cpu_options *o, char *why, size_t whylen);
/* Seconds until the running profile ends (>= 1), 0 when none runs. */
long ix_cpu_remaining_seconds(void);
/* Rescan threads (at most every 10 ms) and drain the ring. */
void ix_cpu_poll(void);
/* End the profile. out (may be NULL to discard) receives it, initialized here. */
void ix_cpu_stop(struct ix_profile *out);

/* Called by the pthread_create wrapper in a new thread before its start
 * routine, and as it exits: during a profile the thread arms (and releases)
 * itself, so threads that live a few milliseconds are sampled too. Cheap
 * (one atomic load) when no profile runs. */
void ix_cpu_thread_begin(void *start_fn);
void ix_cpu_thread_end(void);

/* Totals since the library was loaded, for /metrics. */
struct ix_cpu_totals {
    uint64_t profiles, samples, periods, drops, overruns, threads;
    int active;
    const char *engine; /* last engine used, "" before the first profile */
};
void ix_cpu_totals(struct ix_cpu_totals *t);

#endif
