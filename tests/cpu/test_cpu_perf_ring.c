/* The perf engine's ring mode: stacks are walked from the kernel's copies of
 * the user stack, off the sampled threads. A three-deep call chain is walked
 * to its root; a frame bigger than the copy cuts the walk, which the profile
 * counts in its comments while the leaf is still named; the process ends
 * with no ring mapped. */
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
    chain_leaf();
    ring_sink++;
}

/* 64 KB of locals: the 8 KB copy taken inside big_leaf cannot reach this
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

static void *run_chain(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "chain");
    chain_root();
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

TEST(perf_engine_walks_deep_stacks_and_counts_cut_ones)
{
    if (!perf_available())
        SKIP("perf_event_open is not available here");
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = "perf";
    ASSERT_EQ(introspect_start(&cfg), 0);
    pthread_t a, b;
    ASSERT_EQ(pthread_create(&a, NULL, run_chain, NULL), 0);
    ASSERT_EQ(pthread_create(&b, NULL, run_big, NULL), 0);
    const char *file = "/tmp/ix_test_cpu_perf_ring.pb.gz";
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=2&hz=1000", file), 200);
    atomic_store(&stop, 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);

    char *out = NULL;
    ASSERT_EQ(run_cmd("go tool pprof -top -sample_index=samples -tagfocus=thread=chain "
                      "/tmp/ix_test_cpu_perf_ring.pb.gz 2>&1", &out), 0);
    printf("%s\n", out);
    ASSERT_STR_CONTAINS(out, "engine: perf (");
    ASSERT_STR_CONTAINS(out, "0 signals");
    double leaf = cum_of(out, "chain_leaf"), root = cum_of(out, "chain_root");
    printf("chain_leaf cum %.0f, chain_root cum %.0f\n", leaf, root);
    ASSERT(leaf > 50);
    ASSERT(root >= 0.95 * leaf); /* every walk from the leaf reaches the root */
    free(out);

    ASSERT_EQ(run_cmd("go tool pprof -top -sample_index=samples -tagfocus=thread=big-frame "
                      "/tmp/ix_test_cpu_perf_ring.pb.gz 2>&1", &out), 0);
    printf("%s\n", out);
    ASSERT_STR_CONTAINS(out, "big_leaf");
    const char *cut = strstr(out, " stacks cut at the 8192-byte stack copy");
    ASSERT(cut);
    while (cut[-1] >= '0' && cut[-1] <= '9')
        cut--;
    printf("stacks cut: %ld\n", strtol(cut, NULL, 10));
    ASSERT_GT(strtol(cut, NULL, 10), 0);
    free(out);

    ASSERT_EQ(introspect_stop(), 0);
    ASSERT_EQ(count_perf_maps(), 0);
    ASSERT_EQ(count_perf_fds(), 0);
    unlink(file);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(perf_engine_walks_deep_stacks_and_counts_cut_ones),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}

