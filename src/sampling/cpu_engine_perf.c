/* The perf_event engine (see cpu_engine.h). */
#include "sampling/cpu_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per-fd state, readable from the signal handler: 0 not ours, 1 ours. fds
 * beyond the table are not used (that thread falls back to a timer). */
#define MAX_FD 65536
#define JITTER_EVERY 8 /* a new random period every 8 samples (see below) */
static _Atomic uint8_t g_fd_state[MAX_FD];
/* Each event's mmap'd control page + one data page: the kernel writes an
 * 8-byte sample record there and, with wakeup_events = 1, signals us; the
 * handler only moves data_tail up to data_head. The event stays enabled:
 * re-enabling it per sample (PERF_EVENT_IOC_REFRESH) reschedules the whole
 * perf context, which measured ~70 us per sample in this VM. */
static struct perf_event_mmap_page *_Atomic g_fd_page[MAX_FD];
static long g_page_size;
static _Atomic uint64_t g_period_ns;
static _Atomic uint64_t g_jitter_seq, g_sample_seq;

/* The hrtimer behind cpu-clock is exact, so a fixed period aliases with any
 * periodic workload (a loop whose cycle divides the period is always caught
 * at the same phase: measured +60% bias on the 3:1 benchmark). Every period
 * is therefore drawn uniformly from [p/2, 3p/2): the mean stays p, so counts
 * stay unbiased, and the phase is random. splitmix64 over an atomic counter:
 * lock-free, no thread-local storage (TLS in a dlopened library may allocate
 * on first touch, which a signal handler must not do). */
static uint64_t jittered_period(void)
{
    uint64_t p = atomic_load_explicit(&g_period_ns, memory_order_relaxed);
    uint64_t z = atomic_fetch_add_explicit(&g_jitter_seq, 0x9E3779B97F4A7C15ULL,
                                           memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return p / 2 + (p ? z % p : 0);
}

static int open_event(pid_t tid, long sample_period)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = (uint64_t)sample_period;
    attr.disabled = 1;
    attr.exclude_kernel = 1; /* allowed at perf_event_paranoid = 2 */
    attr.exclude_hv = 1;
    attr.wakeup_events = 1;
    attr.sample_type = 0; /* the record itself is not read: the signal is the sample */
    return (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int perf_probe(int sig, char *why, size_t whylen)
{
    (void)sig;
    int fd = open_event(0, 10000000);
    if (fd < 0) {
        snprintf(why, whylen, "perf_event_open: %s (kernel.perf_event_paranoid=%s)", strerror(errno),
                 "see /proc/sys/kernel/perf_event_paranoid");
        return -1;
    }
    close(fd);
    return 0;
}

static int perf_arm(pid_t tid, long period_ns, long first_ns, int sig, struct ix_cpu_arm *a)
{
    atomic_store(&g_period_ns, (uint64_t)period_ns);
    int fd = open_event(tid, first_ns);
    if (fd < 0)
        return -errno;
    if (fd >= MAX_FD) {
        close(fd);
        return -EMFILE;
    }
    if (!g_page_size)
        g_page_size = sysconf(_SC_PAGESIZE);
    void *page = mmap(NULL, 2 * (size_t)g_page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct f_owner_ex owner = {F_OWNER_TID, tid};
    int err = 0;
    atomic_store(&g_fd_page[fd], page);
    atomic_store(&g_fd_state[fd], 1);
    if (fcntl(fd, F_SETFL, O_ASYNC) < 0 || fcntl(fd, F_SETSIG, sig) < 0 ||
        fcntl(fd, F_SETOWN_EX, &owner) < 0 || ioctl(fd, PERF_EVENT_IOC_RESET, 0) < 0 ||
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0)
        err = -errno;
    if (err) {
        atomic_store(&g_fd_state[fd], 0);
        atomic_store(&g_fd_page[fd], NULL);
        munmap(page, 2 * (size_t)g_page_size);
        close(fd);
        return err;
    }
    a->kind = IX_ARM_PERF;
    a->fd = fd;
    return 0;
}

void ix_cpu_disarm(struct ix_cpu_arm *a)
{
    if (a->kind == IX_ARM_PERF) {
        ioctl(a->fd, PERF_EVENT_IOC_DISABLE, 0);
        atomic_store(&g_fd_state[a->fd], 0);
        void *page = atomic_exchange(&g_fd_page[a->fd], NULL);
        if (page)
            munmap(page, 2 * (size_t)g_page_size);
        close(a->fd);
    } else if (a->kind == IX_ARM_TIMER) {
        timer_delete(a->timer);
    }
    a->kind = IX_ARM_NONE;
    a->fd = -1;
}

int ix_cpu_perf_on_signal(int fd)
{
    if (fd < 0 || fd >= MAX_FD)
        return 0;
    if (!atomic_load_explicit(&g_fd_state[fd], memory_order_relaxed))
        return 0;
    struct perf_event_mmap_page *pg = atomic_load_explicit(&g_fd_page[fd], memory_order_acquire);
    if (!pg)
        return 0;
    /* Free the ring: everything up to data_head has been "read". */
    uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(&pg->data_tail, head, __ATOMIC_RELEASE);
    /* A fresh random period every few samples keeps the phase random
     * (aliasing) at a fraction of an ioctl per sample. */
    if (atomic_fetch_add_explicit(&g_sample_seq, 1, memory_order_relaxed) % JITTER_EVERY == 0) {
        uint64_t next = jittered_period();
        ioctl(fd, PERF_EVENT_IOC_PERIOD, &next);
    }
    return 1;
}

void ix_cpu_perf_close_all_inherited(void)
{
    for (int fd = 0; fd < MAX_FD; fd++)
        if (atomic_load_explicit(&g_fd_state[fd], memory_order_relaxed)) {
            atomic_store_explicit(&g_fd_state[fd], 0, memory_order_relaxed);
            void *page = atomic_exchange(&g_fd_page[fd], NULL);
            if (page)
                munmap(page, 2 * (size_t)g_page_size);
            close(fd);
        }
}

const struct ix_cpu_engine ix_cpu_engine_perf = {
    "perf", "perf_event software cpu-clock per thread, user space only, signal to the thread", 1,
    perf_probe, perf_arm, NULL, NULL,
};
