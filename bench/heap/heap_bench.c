/* The malloc-bound workload of bench/README.md (heap section). It knows nothing of
 * introspect: run it plain, under LD_PRELOAD=libintrospect.so (with and
 * without sampling), tcmalloc, jemalloc or heaptrack.
 *
 *   heap_bench churn ITERS LEAK_MIB HOLD_S   churn ITERS malloc/free pairs
 *       (16..2064 bytes, ring of 1024 live blocks) while leak_memory leaks
 *       LEAK_MIB MiB in 4 KiB blocks; print the thread CPU seconds; then sleep
 *       HOLD_S seconds so a profile can be fetched.
 *   heap_bench free N SIZE   ns per malloc and per free of N blocks of SIZE
 *       (all allocated, then all freed: the free loop times free alone). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h" /* tests/heap: leak_memory, churn */

/* Thread CPU time, not wall time: the benchmark machine is shared, and a
 * descheduled thread must not count as slow allocation. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_churn(unsigned long iters, unsigned long leak_mib, int hold)
{
    size_t leaks = leak_mib * 256, rounds = 64; /* 4 KiB blocks */
    double t0 = now();
    unsigned long sum = 0;
    for (size_t r = 0; r < rounds; r++) {
        leak_memory(leaks / rounds, 4096);
        sum += churn(iters / rounds, (unsigned)r);
    }
    double t = now() - t0;
    printf("cpu %.4f s (checksum %lu, leaked %zu bytes)\n", t, sum, leaked_bytes(0));
    fflush(stdout);
    if (hold > 0)
        sleep((unsigned)hold);
    return 0;
}

static int run_free(size_t n, size_t size)
{
    void **p = malloc(n * sizeof *p);
    double best_m = 1e9, best_f = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            p[i] = malloc(size);
            *(volatile char *)p[i] = 1;
        }
        double t1 = now();
        for (size_t i = 0; i < n; i++)
            free(p[i]);
        double t2 = now();
        if (t1 - t0 < best_m)
            best_m = t1 - t0;
        if (t2 - t1 < best_f)
            best_f = t2 - t1;
    }
    printf("malloc %.2f ns, free %.2f ns (best of 5, %zu blocks of %zu bytes)\n", best_m * 1e9 / n,
           best_f * 1e9 / n, n, size);
    free(p);
    return 0;
}

/* A server has threads, and glibc's malloc takes its arena locks once a
 * second thread exists (introspect's HTTP server is one): every
 * configuration runs with one idle thread, so the baseline is not glibc's
 * single-threaded fast path. */
static void *idle(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th;
    pthread_create(&th, NULL, idle, NULL);
    if (argc == 5 && strcmp(argv[1], "churn") == 0)
        return run_churn(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "free") == 0)
        return run_free(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
    fprintf(stderr, "usage: heap_bench churn ITERS LEAK_MIB HOLD_S | free N SIZE\n");
    return 2;
}
