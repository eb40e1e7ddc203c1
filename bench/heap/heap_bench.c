/* The malloc-bound workload of bench/heap.md. It knows nothing of
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

/* Thread CPU time, not wall time: the benchmark machine is shared, and a
 * descheduled thread must not count as slow allocation. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *g_leaks[1 << 20]; /* not static: the compiler must keep the leaked blocks */
static size_t g_nleaks;

__attribute__((noinline)) void leak_memory(size_t count, size_t size)
{
    for (size_t i = 0; i < count && g_nleaks < (1u << 20); i++) {
        char *p = malloc(size);
        p[0] = 1;
        g_leaks[g_nleaks++] = p;
    }
}

__attribute__((noinline)) unsigned long churn(unsigned long iters, unsigned seed)
{
    enum { RING = 1024 };
    static void *ring[RING];
    unsigned long x = seed * 2654435761u + 1, sum = 0;
    for (unsigned long i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t slot = x % RING;
        free(ring[slot]);
        unsigned char *p = malloc(16 + (x >> 20) % 2049);
        p[0] = (unsigned char)i;
        sum += p[0];
        ring[slot] = p;
    }
    return sum;
}

static int run_churn(unsigned long iters, unsigned long leak_mib, int hold)
{
    size_t leaks = leak_mib * 256, rounds = 64;
    double t0 = now();
    unsigned long sum = 0;
    for (size_t r = 0; r < rounds; r++) {
        leak_memory(leaks / rounds, 4096);
        sum += churn(iters / rounds, (unsigned)r);
    }
    double t = now() - t0;
    printf("cpu %.4f s (checksum %lu, leaked %zu bytes)\n", t, sum, g_nleaks * 4096);
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
