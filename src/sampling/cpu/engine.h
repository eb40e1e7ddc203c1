/* CPU sampling engines: what samples a thread every `period` of its CPU
 * time.
 *
 *   perf         a perf_event software cpu-clock event per thread (hrtimer
 *                based: exact at any rate). At each overflow the kernel
 *                copies the thread's user registers and 8 KB of its stack
 *                into the event's ring; the profiling thread drains the rings
 *                every 10 ms and walks the copies (sampling/cpu/perf_ring.c). No
 *                signal reaches the host's threads, no handler runs in them,
 *                no self-IPI per sample: the cost per sample is the kernel's
 *                (perf record --call-graph dwarf is the model). Kernel-mode
 *                samples are kept where allowed (they carry the user
 *                registers of the syscall), else only user mode is sampled.
 *   perf-signal  the same event, its overflow sent to that very thread
 *                (F_SETOWN_EX/F_OWNER_TID, F_SETSIG, O_ASYNC; async-profiler's
 *                "cpu" engine); the handler walks the live stack, so there is
 *                no stack-copy limit. Used per thread when a ring cannot be
 *                mapped (locked-memory budget), or forced.
 *   timer        a POSIX timer per thread on the thread's CPU clock
 *                (clockid ((~tid) << 3) | 6), SIGEV_THREAD_ID. The kernel
 *                checks these on the scheduler tick, so above CONFIG_HZ
 *                samples arrive late; si_overrun says how many periods a late
 *                one stands for.
 *   itimer       setitimer(ITIMER_PROF): one process-wide timer, SIGPROF
 *                only, delivered to whichever thread runs; loses overlapping
 *                expiries.
 *
 * Signalled samples are recorded by sampling/cpu/handler.c's handler. Per-thread
 * engines arm each thread the profiler finds in /proc/self/task, and each
 * thread that starts during a profile arms itself (sampling/cpu/profiler.c).
 * A thread whose perf event cannot be opened, or that is past the descriptor
 * budget, or whose stack the perf copy cannot reach, gets a timer, which the
 * signal side tells apart by si_code. Each thread's first sample comes after
 * a random fraction of the period, so short-lived threads are not
 * under-counted. */
#ifndef IX_CPU_ENGINE_H
#define IX_CPU_ENGINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum ix_cpu_arm_kind { IX_ARM_NONE, IX_ARM_PERF, IX_ARM_PERF_RING, IX_ARM_TIMER };

/* What one thread is armed with. */
struct ix_cpu_arm {
    enum ix_cpu_arm_kind kind;
    int fd;
    timer_t timer;
    void *map; /* perf: the event's control page and ring */
    /* perf ring: user stack bytes copied per sample. The caller sets it
     * before arm (0: IX_PERF_STACK_BYTES); arm rounds it as the kernel wants. */
    uint32_t stack_bytes;
    /* perf, input: the thread arms itself as it starts. The kernel restarts
     * an event's period whenever it is set (PERF_EVENT_IOC_PERIOD), so an
     * event opened with the random first expiry and then set to the real
     * period starts with a whole period: a thread that lives less than one
     * would never be sampled. Such an event is signalled instead (perf-signal)
     * and keeps the first expiry as its period until its first sample, where
     * the handler sets the real period: the phase stays random. */
    int starting;
};

struct ix_cpu_engine {
    const char *name; /* "perf", "perf-signal", "timer", "itimer" */
    const char *what; /* one line for the profile's comments */
    int per_thread;
    /* 0 when the engine can run here; otherwise a negative INTROSPECT_E* code
     * and a reason. */
    int (*probe)(int sig, char *why, size_t whylen);
    /* Per-thread engines: arm tid; first_ns is the randomized first expiry.
     * Returns 0 or -errno. */
    int (*arm)(pid_t tid, long period_ns, long first_ns, int sig, struct ix_cpu_arm *a);
    /* Process-wide engine: 0, or a negative INTROSPECT_E* code and a reason. */
    int (*start)(long period_ns, int sig, char *why, size_t whylen);
    void (*stop)(void);
};

extern const struct ix_cpu_engine ix_cpu_engine_perf;
extern const struct ix_cpu_engine ix_cpu_engine_perf_signal;
extern const struct ix_cpu_engine ix_cpu_engine_timer;
extern const struct ix_cpu_engine ix_cpu_engine_itimer;

/* Release whatever a thread is armed with (any kind). */
void ix_cpu_disarm(struct ix_cpu_arm *a);

/* Signal side of the perf-signal engine (async-signal-safe): free the ring of
 * the event behind fd and say which thread it samples. Returns 1 when fd is
 * one of ours, 0 otherwise. */
int ix_cpu_perf_on_signal(int fd, pid_t *tid);
/* In a forked child: close every perf event fd inherited from the parent, so
 * the parent's events die with the parent's descriptors. */
void ix_cpu_perf_close_all_inherited(void);

#endif
