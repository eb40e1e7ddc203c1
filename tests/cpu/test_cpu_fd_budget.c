/* The CPU profiler never takes the host's last descriptors. A host with
 * RLIMIT_NOFILE 1024, 820 descriptors held, 200 threads (8 of them opening
 * and closing a file in a loop, the rest burning CPU): through a 2 s CPU
 * profile every open() of the host succeeds. The perf engine keeps
 * max(64, 10% of the limit) descriptors free, and the threads past that
 * budget get CPU-time timers (no descriptor), as the profile's comments say.
 * No statistics: any EMFILE fails the test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

#define THREADS 200
#define OPENERS 8
#define HELD 820

static _Atomic int stop;
static _Atomic uint64_t opens, failures;
volatile uint64_t fd_sink;

static void *opener(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        atomic_fetch_add(&opens, 1);
        close(fd);
    }
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    uint64_t x = 1;
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1;
        fd_sink = x;
        usleep(1000);
    }
    return NULL;
}

int main(void)
{
    struct rlimit rl = {1024, 1024};
    ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = perf_available() ? "perf" : "auto";
    ASSERT_EQ(introspect_start(&cfg), 0);
    static int held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ASSERT(held[i] >= 0);
    }
    printf("%d descriptors open of 1024\n", count_fds());
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        ASSERT(pthread_create(&th[i], NULL, i < OPENERS ? opener : spinner, NULL) == 0);
    usleep(100000);
    const char *file = "/tmp/ix_test_cpu_fd_budget.pb.gz";
    /* fetch_to_file's own socket and file are descriptors too: within the margin */
    ASSERT_EQ(fetch_to_file(introspect_port(), "/debug/pprof/profile?seconds=2&hz=100", file), 200);
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    printf("host opens: %llu ok, %llu failed\n", (unsigned long long)atomic_load(&opens),
           (unsigned long long)atomic_load(&failures));
    ASSERT(atomic_load(&opens) > 100);
    ASSERT_EQ(atomic_load(&failures), 0);
    char *out = NULL;
    ASSERT_EQ(run_cmd("go tool pprof -raw /tmp/ix_test_cpu_fd_budget.pb.gz 2>&1 | grep -E "
                      "'descriptors|threads:'",
                      &out),
              0);
    printf("%s\n", out);
    if (perf_available()) {
        ASSERT_STR_CONTAINS(out, "descriptors: limit 1024");
        const char *p = strstr(out, "free for the host: ");
        ASSERT(p);
        long timers = strtol(p + strlen("free for the host: "), NULL, 10);
        printf("threads on timers past the budget: %ld\n", timers);
        ASSERT(timers > 0);
    }
    free(out);
    for (int i = 0; i < HELD; i++)
        close(held[i]);
    ASSERT_EQ(introspect_stop(), 0);
    unlink(file);
    printf("ok\n");
    return 0;
}
