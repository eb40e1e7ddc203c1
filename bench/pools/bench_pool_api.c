/* Cost of the pool instrumentation per acquire, in ns, median of runs.
 *
 *   bench/pools/run.sh build
 *
 * Cases (each one acquire = start + end + release, as a pool calls them):
 *   baseline_mutex   pthread mutex lock+unlock: what any pool pays per acquire anyway
 *   nowait           INTROSPECT_POOL_NOWAIT acquire, 1 thread
 *   nowait_2thr      the same from 2 threads on one pool (shared cache lines)
 *   auto             INTROSPECT_POOL_WAIT_AUTO, below the threshold
 *   waited_unsampled a wait recorded in counters + histogram, block profile off
 *   waited_sampled   a 1 ms wait at rate 10 us: always sampled (stack + lock)
 */
#include <introspect.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 2000000
#define RUNS 7

static introspect_pool *pool;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void baseline(long n)
{
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
    }
}

static void acquire_loop(long n, int waited, int64_t back_ns)
{
    for (long i = 0; i < n; i++) {
        int64_t t = introspect_pool_acquire_start(pool);
        introspect_pool_acquire_end(pool, t - back_ns, INTROSPECT_POOL_GOT, waited);
        introspect_pool_release(pool);
    }
}

static void nowait(long n) { acquire_loop(n, INTROSPECT_POOL_NOWAIT, 0); }
static void autow(long n) { acquire_loop(n, INTROSPECT_POOL_WAIT_AUTO, 0); }
static void waited(long n) { acquire_loop(n, INTROSPECT_POOL_WAITED, 1000000); }

static void *thr(void *arg)
{
    nowait((long)(intptr_t)arg);
    return NULL;
}

static void nowait_2thr(long n)
{
    pthread_t a, b;
    pthread_create(&a, NULL, thr, (void *)(intptr_t)(n / 2));
    pthread_create(&b, NULL, thr, (void *)(intptr_t)(n / 2));
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ns per operation (wall time / n), median of RUNS. */
static double measure(void (*fn)(long), long n)
{
    double r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        double t0 = now();
        fn(n);
        r[i] = (now() - t0) / (double)n;
    }
    qsort(r, RUNS, sizeof r[0], cmp);
    return r[RUNS / 2];
}

int main(void)
{
    if (introspect_pool_register("bench", 8, &pool))
        return 1;
    printf("%-18s %10s\n", "case", "ns/acquire");
    printf("%-18s %10.1f\n", "baseline_mutex", measure(baseline, N));
    printf("%-18s %10.1f\n", "nowait", measure(nowait, N));
    printf("%-18s %10.1f\n", "nowait_2thr", measure(nowait_2thr, N));
    printf("%-18s %10.1f\n", "auto", measure(autow, N));
    introspect_set_block_profile_rate(0);
    printf("%-18s %10.1f\n", "waited_unsampled", measure(waited, N));
    introspect_set_block_profile_rate(10000);
    printf("%-18s %10.1f\n", "waited_sampled", measure(waited, N / 10));
    return 0;
}
