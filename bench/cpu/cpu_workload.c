/* Benchmark workload: T threads alternating cpu_heavy_three (3 units) and
 * cpu_light_one (1 unit) for D seconds, so the true CPU split is 3:1.
 *
 *   cpu_workload T D none        run unprofiled (also under perf record or
 *                                LD_PRELOAD=libprofiler.so CPUPROFILE=...)
 *   cpu_workload T D introspect  start introspect in-process and fetch its own
 *                                /debug/pprof/profile?seconds=D&hz=$IX_HZ into
 *                                $IX_OUT with curl; the window is the profile
 *   env TIMING=1                 time every call on the thread CPU clock: the
 *                                calibrated truth of the split
 *
 * Prints one line of key=value: units (work done), cpu (process user+system
 * s over the window), wcpu (the workers' own CPU time: what the application
 * threads paid, signal handling included, the profiler's thread excluded),
 * wall, and truth (heavy/light CPU ratio) with TIMING=1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"

#define UNIT 20000

volatile uint64_t bench_sink;
static _Atomic int g_stop;
static _Atomic uint64_t g_units;
static int g_timing;
static _Atomic uint64_t g_ns_heavy, g_ns_light, g_worker_ns;

__attribute__((noinline)) uint64_t cpu_heavy_three(uint64_t units)
{
    uint64_t x = bench_sink | 1;
    for (uint64_t i = 0; i < 3 * units * UNIT; i++)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    bench_sink = x;
    return x;
}

__attribute__((noinline)) uint64_t cpu_light_one(uint64_t units)
{
    uint64_t x = bench_sink | 3;
    for (uint64_t i = 0; i < units * UNIT; i++)
        x = x * 2862933555777941757ULL + 3037000493ULL;
    bench_sink = x;
    return x;
}

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What one thread-CPU-clock read adds to a timed interval (a system call:
 * ~0.2-0.3 us here, ~1% of a light call), measured as the median of empty
 * intervals and taken off every timed call, so the calibrated truth is the
 * functions' own split. */
static uint64_t g_read_ns;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void calibrate_clock_read(void)
{
    uint64_t d[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t t0 = thread_ns();
        d[i] = thread_ns() - t0;
    }
    qsort(d, 1001, sizeof d[0], cmp_u64);
    g_read_ns = d[500];
}

static uint64_t minus_read(uint64_t dt) { return dt > g_read_ns ? dt - g_read_ns : 0; }

static void *worker(void *arg)
{
    (void)arg;
    uint64_t units = 0, h = 0, l = 0;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        if (g_timing) {
            uint64_t t0 = thread_ns();
            cpu_heavy_three(1);
            uint64_t t1 = thread_ns();
            cpu_light_one(1);
            uint64_t t2 = thread_ns();
            h += minus_read(t1 - t0);
            l += minus_read(t2 - t1);
        } else {
            cpu_heavy_three(1);
            cpu_light_one(1);
        }
        units += 4;
    }
    atomic_fetch_add(&g_worker_ns, thread_ns()); /* this worker's whole CPU time */
    atomic_fetch_add(&g_units, units);
    atomic_fetch_add(&g_ns_heavy, h);
    atomic_fetch_add(&g_ns_light, l);
    return NULL;
}

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s threads seconds none|introspect\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    double secs = atof(argv[2]);
    int self = strcmp(argv[3], "introspect") == 0;
    g_timing = getenv("TIMING") && atoi(getenv("TIMING"));
    if (g_timing)
        calibrate_clock_read();
    int port = 0;
    if (self) {
        introspect_config cfg;
        introspect_config_init(&cfg);
        cfg.addr = "127.0.0.1:0";
        if (introspect_start(&cfg))
            return 1;
        port = introspect_port();
    }
    pthread_t t[64];
    n = n > 64 ? 64 : n;
    double c0 = cpu_s(), w0 = now(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    if (self) {
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "curl -sf -o %s 'http://127.0.0.1:%d/debug/pprof/profile?seconds=%g&hz=%s'",
                 getenv("IX_OUT") ? getenv("IX_OUT") : "/dev/null", port, secs,
                 getenv("IX_HZ") ? getenv("IX_HZ") : "100");
        if (system(cmd) != 0)
            fprintf(stderr, "profile request failed\n");
    } else {
        /* a profiler's SIGPROF may interrupt the sleep: sleep to the deadline */
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    atomic_store(&g_stop, 1);
    double c1 = cpu_s(), w1 = now(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("units=%llu cpu=%.4f wcpu=%.4f wall=%.4f", (unsigned long long)atomic_load(&g_units),
           c1 - c0, (double)atomic_load(&g_worker_ns) / 1e9, w1 - w0);
    if (g_timing)
        printf(" truth=%.4f read_ns=%llu", (double)g_ns_heavy / (double)(g_ns_light ? g_ns_light : 1),
               (unsigned long long)g_read_ns);
    printf("\n");
    if (self)
        introspect_stop();
    return 0;
}
