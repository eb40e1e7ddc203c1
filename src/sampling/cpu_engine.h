/* CPU sampling engines: what makes the kernel interrupt a thread every
 * `period` of its CPU time. All three deliver the configured signal to the
 * thread that was running, where cpu_signal.c records a sample.
 *
 *   perf    a perf_event software cpu-clock event per thread (hrtimer based,
 *           user space only so it works at perf_event_paranoid=2), its
 *           overflow sent to that very thread with F_SETOWN_EX/F_OWNER_TID,
 *           F_SETSIG and O_ASYNC. The event stays enabled; each overflow
 *           writes an 8-byte record into a one-page ring (wakeup_events 1)
 *           and signals; the handler just frees the ring. Every few samples
 *           the period is redrawn around the mean, so exact periods cannot
 *           alias with periodic code. Precise at any rate (async-profiler's
 *           "cpu" engine is the model).
 *   timer   a POSIX timer per thread on the thread's CPU clock
 *           (clockid ((~tid) << 3) | 6), SIGEV_THREAD_ID. The kernel checks
 *           these on the scheduler tick, so above CONFIG_HZ samples arrive
 *           late; si_overrun says how many periods a late one stands for.
 *   itimer  setitimer(ITIMER_PROF): one process-wide timer, SIGPROF only,
 *           delivered to whichever thread runs; loses overlapping expiries.
 *
 * Per-thread engines arm each thread the profiler finds in /proc/self/task;
 * a thread whose perf event cannot be opened (fd limit) falls back to a
 * timer, which the signal side tells apart by si_code. */
#ifndef IX_CPU_ENGINE_H
#define IX_CPU_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

enum ix_cpu_arm_kind { IX_ARM_NONE, IX_ARM_PERF, IX_ARM_TIMER };

/* What one thread is armed with. */
struct ix_cpu_arm {
    enum ix_cpu_arm_kind kind;
    int fd;
    timer_t timer;
};

struct ix_cpu_engine {
    const char *name; /* "perf", "timer", "itimer" */
    const char *what; /* one line for the profile's comments */
    int per_thread;
    /* 0 when the engine can run here; otherwise -1 and a reason. */
    int (*probe)(int sig, char *why, size_t whylen);
    /* Per-thread engines: arm tid; first_ns is the randomized first expiry.
     * Returns 0 or -errno. */
    int (*arm)(pid_t tid, long period_ns, long first_ns, int sig, struct ix_cpu_arm *a);
    /* Process-wide engine. */
    int (*start)(long period_ns, int sig, char *why, size_t whylen);
    void (*stop)(void);
};

extern const struct ix_cpu_engine ix_cpu_engine_perf;
extern const struct ix_cpu_engine ix_cpu_engine_timer;
extern const struct ix_cpu_engine ix_cpu_engine_itimer;

/* Release whatever a thread is armed with (any kind). */
void ix_cpu_disarm(struct ix_cpu_arm *a);

/* Signal side of the perf engine (async-signal-safe): re-arm the event behind
 * fd. Returns 1 when fd is one of ours, 0 otherwise. */
int ix_cpu_perf_on_signal(int fd);
/* In a forked child: close every perf event fd inherited from the parent, so
 * the parent's events die with the parent's descriptors. */
void ix_cpu_perf_close_all_inherited(void);

#endif
