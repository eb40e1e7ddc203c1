/* Off-CPU sampling: where every thread waits, and for how long.
 *
 * Method (works unprivileged, with no signal): a module thread,
 * "introspect-off", wakes every 1/hz s and looks at each thread of the
 * process. A thread blocked in the kernel (its /proc/.../syscall line is not
 * "running") is walked from its saved SP/PC with no signal
 * (sampling/threads/blocked_walk.h) and its stack is charged the time since
 * the previous tick: delay/nanoseconds. contentions/count counts the waits
 * seen: a thread still blocked at the next tick without having run in
 * between (schedstat) continues the same wait. Threads that run are not
 * charged (the CPU profile sees them). Time spent runnable but waiting for a
 * CPU (schedstat's run delay, exact per thread) right after a wait is that
 * wait's wake-up latency: it is charged to the wait's stack with state
 * "runnable". With `runq` set (wall profiles), runnable time that follows
 * no wait (preemption) is added too, as a stackless "runnable" sample.
 *
 * The kernel's context-switch records would be exact, but an unprivileged
 * process cannot have them (perf refuses exclude_kernel = 0 at
 * perf_event_paranoid >= 2, and with exclude_kernel = 1 they never fire), so
 * sampling is the method everywhere; the profile's comments say so.
 *
 * Samples carry labels thread (the name), state (the system call waited in,
 * "blocked" outside one, "runnable") and idle ("true" for waits for work:
 * epoll/poll/select, sleeps, accept, signal waits, and futex waits inside a
 * condition variable or semaphore wait; else "false"), so `-tagignore
 * idle=true` drops idle threads. */
#ifndef IX_OFFCPU_H
#define IX_OFFCPU_H

#include <stddef.h>

#include "model/profile.h"

#define IX_OFFCPU_DEFAULT_HZ 100
#define IX_OFFCPU_MAX_HZ 1000

struct ix_offcpu_options {
    long hz;  /* ticks per second (1..IX_OFFCPU_MAX_HZ) */
    int runq; /* also record each thread's wait for a CPU (wall profiles) */
};

struct ix_offcpu;

/* Start the sampler thread (its signals all blocked, its allocations kept
 * out of the heap profile). Returns 0 or a negative INTROSPECT_E* code. */
int ix_offcpu_start(const struct ix_offcpu_options *o, struct ix_offcpu **out);
/* Stop it and hand over the profile (initialized here; name "offcpu",
 * types contentions/count and delay/nanoseconds). */
void ix_offcpu_stop(struct ix_offcpu *s, struct ix_profile *out);

#endif
