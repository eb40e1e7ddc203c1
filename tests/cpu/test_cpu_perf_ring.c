/* The perf engine's ring mode: stacks are walked from the kernel's copies of
 * the user stack, off the sampled threads, and reach the thread's first
 * frame. A three-deep call chain fits the first 8 KB copy; a thread with a
 * 24 KiB frame has its walks cut at first, and is re-armed with a bigger
 * copy; a thread with a 64 KiB frame outgrows the largest copy (65528 bytes)
 * and gets a CPU-time timer, so its live stack is walked. The process ends with no
 * ring mapped.
 *
 * Noise: a thread's walks are cut only until the first drain after its
 * arming or growth (10 ms of the thread's CPU, more on a loaded machine:
 * ~10-15 samples at 1000 Hz per step): the first profile must reach 0.90,
 * or cut no more than 15 a step (a starved thread has few samples, and the
 * cut ones are a count, not a share).
 * Threads keep what they needed, so the second profile starts right: 0.99.
 * The shares are read only from a window in which each thread ran at least
 * 0.2 s of CPU (its CPU clock; 200 periods at 1000 Hz); a machine that
 * starved it of that skips the test and says so. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

static _Atomic int stop;
volatile uint64_t ring_sink;

__attribute__((noinline)) void chain_leaf(void)
{
    uint64_t x = ring_sink | 1;
    for (int i = 0; i < 100000; i++)
        x = x * 6364136223846793005ULL + 1;
    ring_sink = x;
}

__attribute__((noinline)) void chain_mid(void)
{
    chain_leaf();
    ring_sink++;
}

__attribute__((noinline)) void chain_root(void)
{
    while (!atomic_load(&stop))
        chain_mid();
    ring_sink++;
}

__attribute__((noinline)) void big_leaf(void)
{
    uint64_t x = ring_sink | 1;
    for (int i = 0; i < 100000; i++)
        x = x * 6364136223846793005ULL + 1;
    ring_sink = x;
}

__attribute__((noinline)) void mid_leaf(void)
{
    uint64_t x = ring_sink | 1;
    for (int i = 0; i < 100000; i++)
        x = x * 6364136223846793005ULL + 1;
    ring_sink = x;
}

/* 64 KB of locals: no copy the kernel can take inside big_leaf reaches this
 * frame's return address. */
__attribute__((noinline)) void big_frame_root(void)
{
    volatile char buf[65536];
    while (!atomic_load(&stop)) {
        buf[ring_sink % sizeof buf] = 1;
        big_leaf();
    }
    ring_sink += buf[0];
}

/* 24 KiB of locals: beyond the first 8 KB copy, within the second. */
__attribute__((noinline)) void frame24_root(void)
{
    volatile char buf[24 * 1024];
    while (!atomic_load(&stop)) {
        buf[ring_sink % sizeof buf] = 1;
        mid_leaf();
    }
    ring_sink += buf[0];
}

static void *run_chain(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "chain");
    chain_root();
    return NULL;
}

static void *run_24k(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "frame-24k");
    frame24_root();
    return NULL;
}

static void *run_big(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "big-frame");
    big_frame_root();
    return NULL;
}

/* The cum column of fn in `go tool pprof -top` (samples). */
static double cum_of(const char *top, const char *fn)
{
    const char *p = strstr(top, fn);
    ASSERT(p);
    while (p > top && p[-1] != '\n')
        p--;
    double v[4];
    char *end;
    for (int i = 0; i < 4; i++) {
        v[i] = strtod(p, &end);
        p = end;
        while (*p == '%' || *p == ' ' || *p == 'm' || *p == 's')
            p++;
    }
    return v[3];
}

/* The thread CPU time (seconds) of each workload thread: chain, frame-24k,
 * big-frame. */
static pthread_t g_thr[3];
static void thread_cpu(double out[3])
{
    for (int i = 0; i < 3; i++) {
        clockid_t id;
        struct timespec ts;
        ASSERT_EQ(pthread_getcpuclockid(g_thr[i], &id), 0);
        ASSERT_EQ(clock_gettime(id, &ts), 0);
        out[i] = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
}

#define HZ 1000
/* The fewest samples a share is read from: at 100, one cut sample in the
 * second profile costs 0.01, the whole margin of its 0.99 floor, and the
 * first profile's ~10-20 cut samples (a drain period per step at 1000 Hz of
 * the thread's own CPU) fit the 0.10 margin of its 0.90 floor only from
 * ~200 up. */
#define MIN_SAMPLES 200.0
/* The most walks cut between a thread's arming (or growth) and the drain
 * that re-arms it: 10 ms of its CPU at 1000 Hz is 10; up to 14 seen for a
 * thread's 3 steps at load 8-30. */
#define CUT_PER_STEP 15

/* Skips (says so) when a workload thread got too little CPU in the window
 * [c0, c1] for MIN_SAMPLES at HZ: the machine starved the test. */
static void enough_cpu(const double c0[3], const double c1[3])
{
    static const char *names[3] = {"chain", "frame-24k", "big-frame"};
    for (int i = 0; i < 3; i++) {
        printf("%s ran %.3f s of CPU in the window: %.0f samples at %d Hz\n", names[i],
               c1[i] - c0[i], (c1[i] - c0[i]) * HZ, HZ);
        if ((c1[i] - c0[i]) * HZ < MIN_SAMPLES)
            SKIP("starved: thread %s ran only %.3f s of CPU in the 4 s window (%.0f samples at "
                 "%d Hz, fewer than the %.0f a share is read from)",
                 names[i], c1[i] - c0[i], (c1[i] - c0[i]) * HZ, HZ, MIN_SAMPLES);
    }
}

/* Of thread's samples, the share whose stack reaches its first frame:
 * clone3's cumulative samples over the thread's leaf's. cpu_s is the
 * thread's CPU time in the window, measured by its CPU clock: cpu_s * HZ
 * periods. A share is read from at least a fifth of them: at load 4-8 the
 * profile held 0.41-0.6 samples a period (the cpu-clock events of threads
 * sharing a CPU with other processes fire less often than their CPU time
 * says; a thread on CPU-time timers is sampled at the scheduler's tick,
 * several periods a sample). */
static double root_share(const char *thread, const char *leaf_fn, double floor, int steps,
                         double cpu_s)
{
    char cmd[300], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "go tool pprof -top -sample_index=samples -tagfocus=thread=%s "
             "/tmp/ix_test_cpu_perf_ring.pb.gz 2>&1", thread);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("%s\n", out);
    double leaf = cum_of(out, leaf_fn), root = cum_of(out, "__clone3");
    printf("%s: %s cum %.0f, __clone3 cum %.0f: %.4f reach the root; %.0f samples for its "
           "%.3f s of CPU (%.0f periods)\n", thread, leaf_fn, leaf, root, root / leaf, leaf,
           cpu_s, cpu_s * HZ);
    ASSERT(leaf >= 0.2 * cpu_s * HZ);
    free(out);
    /* Cut walks are a count, not a share: those until the first drain
     * after each arming or growth (steps), at most CUT_PER_STEP each. */
    if (root / leaf < floor && leaf - root > steps * CUT_PER_STEP)
        ix_test_fail(__FILE__, __LINE__, "%s: %.4f of %.0f samples reach the root (want %.2f, "
                     "or at most %d cut for its %d re-armings)", thread, root / leaf, leaf, floor,
                     steps * CUT_PER_STEP, steps);
    return root / leaf;
}

/* The profile's "stacks:" comment numbers: cut at the end of the stack
 * copy, of them holes (the kernel copied less than asked: a page it could
 * not read without faulting), copies grown. */
static void stack_counts(unsigned long *cut, unsigned long *holes, unsigned long *grown)
{
    char *out = NULL;
    ASSERT_EQ(run_cmd("go tool pprof -raw /tmp/ix_test_cpu_perf_ring.pb.gz 2>&1 | grep 'stacks:'",
                      &out), 0);
    printf("%s", out);
    const char *p = strstr(out, "first frame; ");
    ASSERT(p);
    ASSERT_EQ(sscanf(p, "first frame; %lu cut at the end of the stack copy (%lu", cut, holes), 2);
    p = strstr(p, "copy grown for ");
    ASSERT(p);
    ASSERT_EQ(sscanf(p, "copy grown for %lu", grown), 1);
    free(out);
}

TEST(perf_engine_stacks_reach_the_root_at_any_frame_size)
{
    if (!perf_available())
        SKIP("perf_event_open is not available here");
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = "perf";
    ASSERT_EQ(introspect_start(&cfg), 0);
    ASSERT(pthread_create(&g_thr[0], NULL, run_chain, NULL) == 0);
    ASSERT(pthread_create(&g_thr[1], NULL, run_24k, NULL) == 0);
    ASSERT(pthread_create(&g_thr[2], NULL, run_big, NULL) == 0);
    const char *file = "/tmp/ix_test_cpu_perf_ring.pb.gz";
    double c0[3], c1[3], c2[3];
    thread_cpu(c0);
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=4&hz=1000", file), 200);
    thread_cpu(c1);
    enough_cpu(c0, c1);
    /* first profile: the threads' walks are cut until they are re-armed */
    root_share("chain", "chain_leaf", 0.99, 0, c1[0] - c0[0]); /* fits the first copy */
    root_share("frame-24k", "mid_leaf", 0.90, 1, c1[1] - c0[1]); /* 8 KB -> 32 KB */
    root_share("big-frame", "big_leaf", 0.90, 3, c1[2] - c0[2]); /* 8, 32, 64 KB, timers */
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=4&hz=1000", file), 200);
    thread_cpu(c2);
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(g_thr[i], NULL);

    char *out = NULL;
    ASSERT_EQ(run_cmd("go tool pprof -raw /tmp/ix_test_cpu_perf_ring.pb.gz 2>&1 | head -20", &out), 0);
    printf("%s\n", out);
    ASSERT_STR_CONTAINS(out, "engine: perf (");
    free(out);
    /* Sanitizer builds grow frames (redzones, fake stacks) past the largest
     * copy: the accuracy below is the normal build's to prove. */
    const char *san = getenv("IX_SANITIZE");
    if (san && *san)
        return;
    /* Modes kept from the first: no copy grows, and no walk is cut by the
     * copy's size. A hole (seen once in 10+ runs under load: 1 sample) is
     * the kernel failing to read a stack page in its sampling interrupt,
     * not the size; the engine moves that thread to timers, and the share
     * below bounds how many there may be. */
    unsigned long cut, holes, grown;
    stack_counts(&cut, &holes, &grown);
    ASSERT_EQ(grown, 0);
    ASSERT_EQ(cut, holes);
    /* second profile: every thread starts with what it needed */
    enough_cpu(c1, c2);
    root_share("chain", "chain_leaf", 0.99, 0, c2[0] - c1[0]);
    root_share("frame-24k", "mid_leaf", 0.99, 0, c2[1] - c1[1]);
    root_share("big-frame", "big_leaf", 0.99, 0, c2[2] - c1[2]);

    ASSERT_EQ(introspect_stop(), 0);
    ASSERT_EQ(count_perf_maps(), 0);
    ASSERT_EQ(count_perf_fds(), 0);
    unlink(file);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(perf_engine_stacks_reach_the_root_at_any_frame_size),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
