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
 * tick's resolution, the recorder's spans are exact. */
#ifndef IX_TRACE_WINDOW_H
#define IX_TRACE_WINDOW_H

#include "model/trace.h"

#define IX_TRACE_DEFAULT_HZ 1000
#define IX_TRACE_MAX_HZ 2000
#define IX_TRACE_COUNTER_MS 10

struct ix_trace_window;

/* Start a window: recording on, the sampler thread running. Returns 0,
 * INTROSPECT_EBUSY (a trace runs), INTROSPECT_ENOMEM or INTROSPECT_ESYS. */
int ix_trace_window_start(long hz, long seconds, struct ix_trace_window **out);
/* Stop it and assemble the trace into *out (ix_trace_free it). */
void ix_trace_window_stop(struct ix_trace_window *w, struct ix_trace *out);

#endif
