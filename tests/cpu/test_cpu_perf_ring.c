/* The perf engine's ring mode: stacks are walked from the kernel's copies of
 * the user stack, off the sampled threads, and reach the thread's first
 * frame. A three-deep call chain fits the first 8 KB copy; a thread with a
 * 24 KiB frame has its walks cut at first, and is re-armed with a bigger
 * copy; a thread with a 64 KiB frame outgrows the largest copy (65528 bytes)
 * and gets a CPU-time timer, so its live stack is walked. The process ends with no
 * ring mapped.
 *
 * Noise: a thread's walks are cut only until the first drain after its
 * arming or growth (10 ms, more on a loaded machine: ~10-60 samples at
 * 1000 Hz per step) out of ~400-1000 in 4 s: the first profile must reach
 * 0.90. Threads keep what they needed, so the second profile starts right:
 * 0.99. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        while (*p == '%' || *p == ' ')
            p++;
    }
    return v[3];
}

/* Of thread's samples, the share whose stack reaches its first frame:
 * clone3's cumulative samples over the thread's leaf's. */
static double root_share(const char *thread, const char *leaf_fn, double floor)
{
    char cmd[300], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "go tool pprof -top -sample_index=samples -tagfocus=thread=%s "
             "/tmp/ix_test_cpu_perf_ring.pb.gz 2>&1", thread);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("%s\n", out);
    double leaf = cum_of(out, leaf_fn), root = cum_of(out, "__clone3");
    printf("%s: %s cum %.0f, __clone3 cum %.0f: %.4f reach the root\n", thread, leaf_fn, leaf,
           root, root / leaf);
    ASSERT(leaf > 200);
    free(out);
    ASSERT(root / leaf >= floor);
    return root / leaf;
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
    pthread_t a, b, c;
    ASSERT(pthread_create(&a, NULL, run_chain, NULL) == 0);
    ASSERT(pthread_create(&b, NULL, run_big, NULL) == 0);
    ASSERT(pthread_create(&c, NULL, run_24k, NULL) == 0);
    const char *file = "/tmp/ix_test_cpu_perf_ring.pb.gz";
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=4&hz=1000", file), 200);
    /* first profile: the threads' walks are cut until they are re-armed */
    root_share("chain", "chain_leaf", 0.99);
    root_share("frame-24k", "mid_leaf", 0.90);
    root_share("big-frame", "big_leaf", 0.90);
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=4&hz=1000", file), 200);
    atomic_store(&stop, 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);

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
    out = NULL;
    ASSERT_EQ(run_cmd("go tool pprof -raw /tmp/ix_test_cpu_perf_ring.pb.gz 2>&1 | head -20", &out), 0);
    ASSERT_STR_CONTAINS(out, " 0 cut at the end of the stack copy"); /* modes kept from the first */
    free(out);
    /* second profile: every thread starts with what it needed */
    root_share("chain", "chain_leaf", 0.99);
    root_share("frame-24k", "mid_leaf", 0.99);
    root_share("big-frame", "big_leaf", 0.99);

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
