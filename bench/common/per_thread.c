/* See per_thread.h. */
#define _GNU_SOURCE
#include "per_thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

double bench_clock_cost_ns(long iters)
{
    double t0 = bench_thread_cpu_s(), x = 0;
    for (long i = 0; i < iters; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x += ts.tv_nsec;
    }
    if (x < 0) /* keep the calls */
        printf("impossible\n");
    return (bench_thread_cpu_s() - t0) * 1e9 / iters;
}

struct job {
    double (*loop)(const void *cfg);
    const void *cfg;
    double ns;
};

static void *thread_main(void *p)
{
    struct job *j = p;
    j->ns = j->loop(j->cfg);
    return NULL;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double bench_threads_median(int threads, int runs, double (*loop)(const void *cfg),
                            const void *cfg)
{
    double r[31];
    if (threads > 16)
        threads = 16;
    if (runs > 31)
        runs = 31;
    for (int k = 0; k < runs; k++) {
        pthread_t th[16];
        struct job j[16];
        for (int i = 0; i < threads; i++) {
            j[i] = (struct job){loop, cfg, 0};
            pthread_create(&th[i], NULL, thread_main, &j[i]);
        }
        double sum = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            sum += j[i].ns;
        }
        r[k] = sum / threads;
    }
    qsort(r, (size_t)runs, sizeof r[0], cmp);
    return r[runs / 2];
}
