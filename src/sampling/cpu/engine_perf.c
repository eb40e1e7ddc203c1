/* The perf_event engines (see sampling/cpu/engine.h): one software cpu-clock event
 * per thread, either read by the profiling thread from the event's ring
 * (perf: the kernel copies the user registers and stack at each sample, no
 * signal) or signalled to the thread (perf-signal). */
#include "sampling/cpu/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <time.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sampling/cpu/perf_ring.h"
#include "introspect.h"
#include "util/errno_text.h"

/* Per-fd state, readable from the signal handler: 0 not ours, 1 signal mode,
 * 2 ring mode. fds beyond the table are not used (that thread falls back to
 * a timer). The mapping's address and size are kept per fd so a forked child
 * can release what it inherited. */
#define MAX_FD 65536
enum { FD_FREE, FD_SIGNAL, FD_RING };
static _Atomic uint8_t g_fd_state[MAX_FD];
static void *_Atomic g_fd_map[MAX_FD];
static uint32_t g_fd_bytes[MAX_FD];
static _Atomic pid_t g_fd_tid[MAX_FD]; /* the thread each signalled event samples */
static _Atomic uint64_t g_fd_period[MAX_FD]; /* the real period, set at the first sample */
static long g_page_size;
/* -1 unknown, 1 the kernel lets us sample in kernel mode too, 0 user only. */
static _Atomic int g_kernel_ok = -1;

static long page_size(void)
{
    if (!g_page_size)
        g_page_size = sysconf(_SC_PAGESIZE);
    return g_page_size;
}

/* Samples taken while the thread is in the kernel (a syscall, a page fault)
 * are kept where the kernel allows it: they are then delivered with the user
 * registers the thread entered the kernel with, so syscall time goes to the
 * code that made the call, as in Go. At perf_event_paranoid = 2 without
 * CAP_PERFMON only user mode may be sampled and such time is not sampled. */
static int open_event(pid_t tid, uint64_t first, int ring, uint32_t stack_bytes)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = first;
    attr.disabled = 1;
    attr.exclude_hv = 1;
    if (ring) {
        /* TIME on CLOCK_MONOTONIC: the clock of the threads' label change logs. */
        attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_REGS_USER |
                           PERF_SAMPLE_STACK_USER;
        attr.use_clockid = 1;
        attr.clockid = CLOCK_MONOTONIC;
        attr.sample_regs_user = IX_PERF_REGS_MASK;
        attr.sample_stack_user = stack_bytes;
        attr.watermark = 1; /* never wake anyone: the profiling thread polls */
        attr.wakeup_watermark = UINT32_MAX;
    } else {
        attr.wakeup_events = 1; /* each overflow wakes: that is the signal */
    }
    int k = atomic_load(&g_kernel_ok);
    attr.exclude_kernel = k == 0;
    int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 && k == -1 && (errno == EACCES || errno == EPERM)) {
        attr.exclude_kernel = 1;
        fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd >= 0)
            atomic_store(&g_kernel_ok, 0);
    } else if (fd >= 0 && k == -1) {
        atomic_store(&g_kernel_ok, 1);
    }
    return fd;
}

int ix_cpu_perf_user_only(void)
{
    return atomic_load(&g_kernel_ok) == 0;
}

static int perf_probe(int sig, char *why, size_t whylen)
{
    (void)sig;
    int fd = open_event(0, 10000000, 0, 0);
    if (fd < 0) {
        snprintf(why, whylen, "perf_event_open: %s (see /proc/sys/kernel/perf_event_paranoid)",
                 ix_errno_text(errno));
        return INTROSPECT_ESYS;
    }
    close(fd);
    return 0;
}

/* Ring pages for ~25 ms of samples at the period (the profiling thread
 * drains every 10 ms; the kernel counts what does not fit as lost), at
 * least four records, at most 2 MB. */
static uint32_t ring_data_pages(long period_ns, uint32_t stack_bytes)
{
    uint64_t per_drain = 25000000ULL / (uint64_t)(period_ns > 0 ? period_ns : 1) + 2;
    if (per_drain < 4)
        per_drain = 4;
    uint64_t bytes = per_drain * (stack_bytes + 128);
    uint32_t pages = 4;
    while (pages < 512 && (uint64_t)pages * (uint64_t)page_size() < bytes)
        pages *= 2;
    return pages;
}

static void forget_fd(int fd)
{
    atomic_store(&g_fd_state[fd], FD_FREE);
    atomic_store(&g_fd_period[fd], 0);
    void *map = atomic_exchange(&g_fd_map[fd], NULL);
    if (map)
        munmap(map, g_fd_bytes[fd]);
    close(fd);
}

/* Open, map and enable one thread's event. The event is opened with the
 * random first expiry as its period and set to the real period before it is
 * enabled: the kernel starts counting from the first value (period_left) and
 * continues with the second, so the phase is random without any later
 * reprogramming. */
static int arm_event(pid_t tid, long period_ns, long first_ns, int sig, int ring,
                     struct ix_cpu_arm *a)
{
    int deferred = !ring && a->starting; /* the period is set at the first sample */
    /* Until then the event runs with its first expiry as period: never a
     * tiny one, or the timer interrupts (each a signal: ~20 us on a VM) come
     * faster than the thread can reach its handler and it livelocks. The
     * sample moves by at most 100 us. */
    if (deferred && first_ns < 100000)
        first_ns = period_ns < 100000 ? period_ns : 100000;
    uint32_t stack = a->stack_bytes ? a->stack_bytes : IX_PERF_STACK_BYTES;
    if (stack > IX_PERF_STACK_MAX)
        stack = IX_PERF_STACK_MAX;
    stack &= ~7u; /* the kernel wants a multiple of 8 */
    int fd = open_event(tid, (uint64_t)first_ns, ring, stack);
    if (fd < 0)
        return -errno;
    if (fd >= MAX_FD) {
        close(fd);
        return -EMFILE;
    }
    size_t bytes =
        (size_t)((ring ? ring_data_pages(period_ns, stack) : 1) + 1) * (size_t)page_size();
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) { /* EPERM: over perf_event_mlock_kb / RLIMIT_MEMLOCK */
        int e = errno;
        close(fd);
        return -e;
    }
    g_fd_bytes[fd] = (uint32_t)bytes;
    atomic_store(&g_fd_tid[fd], tid);
    atomic_store(&g_fd_period[fd], deferred ? (uint64_t)period_ns : 0);
    atomic_store(&g_fd_map[fd], map);
    atomic_store(&g_fd_state[fd], ring ? FD_RING : FD_SIGNAL);
    uint64_t period = (uint64_t)period_ns;
    int err = 0;
    if (!ring) {
        struct f_owner_ex owner = {F_OWNER_TID, tid};
        if (fcntl(fd, F_SETFL, O_ASYNC) < 0 || fcntl(fd, F_SETSIG, sig) < 0 ||
            fcntl(fd, F_SETOWN_EX, &owner) < 0)
            err = -errno;
    }
    if (!err && ((!deferred && ioctl(fd, PERF_EVENT_IOC_PERIOD, &period) < 0) ||
                 ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0))
        err = -errno;
    if (err) {
        forget_fd(fd);
        return err;
    }
    a->kind = ring ? IX_ARM_PERF_RING : IX_ARM_PERF;
    a->fd = fd;
    a->map = map;
    a->stack_bytes = ring ? stack : 0;
    return 0;
}

/* Ring mode first; a thread whose ring cannot be mapped (the locked-memory
 * budget of unprivileged users is ~0.5 MB per CPU plus RLIMIT_MEMLOCK) is
 * signalled instead, with a one-page ring, unless sig is 0 (no signal of
 * ours: another handler owns it). */
static int perf_arm(pid_t tid, long period_ns, long first_ns, int sig, struct ix_cpu_arm *a)
{
    if (a->starting && sig)
        return arm_event(tid, period_ns, first_ns, sig, 0, a);
    int rc = arm_event(tid, period_ns, first_ns, sig, 1, a);
    if ((rc == -EPERM || rc == -ENOMEM) && sig)
        rc = arm_event(tid, period_ns, first_ns, sig, 0, a);
    return rc;
}

static int perf_signal_arm(pid_t tid, long period_ns, long first_ns, int sig,
                           struct ix_cpu_arm *a)
{
    return arm_event(tid, period_ns, first_ns, sig, 0, a);
}

void ix_cpu_disarm(struct ix_cpu_arm *a)
{
    if (a->kind == IX_ARM_PERF || a->kind == IX_ARM_PERF_RING) {
        ioctl(a->fd, PERF_EVENT_IOC_DISABLE, 0);
        forget_fd(a->fd);
    } else if (a->kind == IX_ARM_TIMER) {
        timer_delete(a->timer);
    }
    a->kind = IX_ARM_NONE;
    a->fd = -1;
    a->map = NULL;
}

int ix_cpu_perf_on_signal(int fd, pid_t *tid)
{
    if (fd < 0 || fd >= MAX_FD)
        return 0;
    if (atomic_load_explicit(&g_fd_state[fd], memory_order_relaxed) != FD_SIGNAL)
        return 0;
    struct perf_event_mmap_page *pg = atomic_load_explicit(&g_fd_map[fd], memory_order_acquire);
    if (!pg)
        return 0;
    /* Free the ring: everything up to data_head has been "read". */
    uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(&pg->data_tail, head, __ATOMIC_RELEASE);
    *tid = atomic_load_explicit(&g_fd_tid[fd], memory_order_relaxed);
    /* The first sample of a thread that armed itself: from here on the real
     * period (ioctl is a plain system call: async-signal-safe). */
    uint64_t period = atomic_exchange_explicit(&g_fd_period[fd], 0, memory_order_relaxed);
    if (period)
        ioctl(fd, PERF_EVENT_IOC_PERIOD, &period);
    return 1;
}

void ix_cpu_perf_close_all_inherited(void)
{
    for (int fd = 0; fd < MAX_FD; fd++)
        if (atomic_load_explicit(&g_fd_state[fd], memory_order_relaxed) != FD_FREE)
            forget_fd(fd);
}

const struct ix_cpu_engine ix_cpu_engine_perf = {
    "perf",
    "perf_event software cpu-clock per thread; the kernel copies each sample's user registers and "
    "stack into a ring the profiler reads: no signal",
    1, perf_probe, perf_arm, NULL, NULL,
};

const struct ix_cpu_engine ix_cpu_engine_perf_signal = {
    "perf-signal", "perf_event software cpu-clock per thread, each overflow signalled to the thread",
    1, perf_probe, perf_signal_arm, NULL, NULL,
};
