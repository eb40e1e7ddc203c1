/* The example pool's acquire + release cycle over SQLite (no query), to put
 * the instrumentation's cost (bench_pool_api) in proportion. ns per cycle,
 * median of runs.
 *
 *   bench/pools/run.sh build
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pgpool.h"

#define N 500000
#define RUNS 5

static struct pgpool *pool;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *cycles(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++) {
        struct pgpool_conn *c;
        if (pgpool_acquire(pool, -1, &c) == PGPOOL_OK)
            pgpool_release(pool, c, 0);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double run(int threads)
{
    double r[RUNS];
    for (int k = 0; k < RUNS; k++) {
        pthread_t t[8];
        double t0 = now();
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, cycles, (void *)(intptr_t)(N / threads));
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        r[k] = (now() - t0) / N;
    }
    qsort(r, RUNS, sizeof r[0], cmp);
    return r[RUNS / 2];
}

int main(void)
{
    struct pgpool_config c;
    pgpool_config_init(&c);
    c.name = "bench";
    c.max_open = 2;
    char why[256];
    if (pgpool_open(&c, &pool, why, sizeof why) != PGPOOL_OK) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    cycles((void *)(intptr_t)10); /* open the connections */
    printf("%-26s %10s\n", "case", "ns/cycle");
    printf("%-26s %10.1f\n", "1 thread, pool of 2", run(1));
    printf("%-26s %10.1f\n", "4 threads, pool of 2", run(4));
    pgpool_close(pool);
    return 0;
}
