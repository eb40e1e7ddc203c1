/* One execution-trace window: the recorder's rings (trace/recorder.h) for
 * what the host's threads did (tasks, pool and mutex waits), plus a module
 * thread sampling what the kernel says of every thread and the process's
 * gauges:
 *  - thread states at hz (default 1000): /proc/self/task/<tid>/stat, kept
 *    open and re-read with pread (a few microseconds a thread); a change
 *    between running ('R') and asleep closes an interval, and so does an
 *    asleep thread whose run count (.../schedstat) moved: it woke and
 *    blocked again between two ticks (maybe somewhere else). A thread seen
 *    asleep at two ticks in a row (blocked a whole tick or more) is walked
 *    once without a signal (sampling/threads/blocked_walk.h) for the stack
 *    of the call it blocks in; shorter sleeps get no stack, and walks are
 *    capped per tick so a thread storm cannot stall the sampler;
 *  - every 10 ms: RSS (/proc/self/statm), heap in use (the allocator's
 *    headline), live threads, live tasks, in-use connections per pool.
 * Intervals shorter than a tick are not seen: a state interval has the
 * tick's resolution, the recorder's spans are exact.
 *
 * CPU samples: the window runs a CPU profile (sampling/cpu/, the engine
 * the config names, at cpu.hz) whose every sample is tapped as it is
 * drained and kept with its time, thread and stack (a stack table of the
 * trace's own), up to a bound (drops counted). The profile itself is then
 * discarded; its notes (engine, losses) go into the trace's metadata. One
 * CPU profile runs at a time: beside a running /debug/pprof/profile the
 * trace has no CPU samples and says so (and a profile asked for during a
 * trace gets the profiler's 409). */
#ifndef IX_TRACE_WINDOW_H
#define IX_TRACE_WINDOW_H

#include "model/trace.h"

#define IX_TRACE_DEFAULT_HZ 1000
#define IX_TRACE_MAX_HZ 2000
#define IX_TRACE_DEFAULT_CPU_HZ 100
#define IX_TRACE_COUNTER_MS 10

struct ix_trace_window;

/* Build what the window's sampler needs (the unwind tables) before a trace
 * is claimed: their first build takes ~10 ms (250-300 ms under TSan), and
 * done inside the window it held the state sampler from its first tick
 * while the tasks were already recorded. */
void ix_trace_window_prepare(void);

/* Start a window: recording on, the sampler thread running. Returns 0,
 * INTROSPECT_EBUSY (a trace runs), INTROSPECT_ENOMEM or INTROSPECT_ESYS. */
struct ix_trace_cpu_opts {
    long hz;            /* 0: no CPU samples */
    const char *engine; /* the config's cpu_engine */
    int sig;            /* the config's cpu_signal */
};

int ix_trace_window_start(long hz, long seconds, const struct ix_trace_cpu_opts *cpu,
                          struct ix_trace_window **out);
/* Drain the CPU samples of the running window (every ~10 ms, from the
 * thread that waits through it); nothing when it takes none. */
void ix_trace_window_poll(void);
/* Stop it and assemble the trace into *out (ix_trace_free it). */
void ix_trace_window_stop(struct ix_trace_window *w, struct ix_trace *out);

#endif
