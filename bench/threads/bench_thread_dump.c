/* How long a thread dump takes with N threads (blocked in pthread_cond_wait),
 * end to end over loopback HTTP, for the pprof output and for debug=2.
 *
 *   cmake --build build && build/bench/bench_thread_dump
 *
 * Prints the median and p90 of 21 dumps for N = 10, 100, 500. */
#define _GNU_SOURCE
#include <introspect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int quit;

static void *idle_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!quit)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(int port, const char *target, int nthreads)
{
    enum { RUNS = 21 };
    double t[RUNS];
    size_t bytes = 0;
    for (int i = 0; i < RUNS; i++) {
        struct http_reply r;
        double t0 = now_ms();
        if (http_get(port, target, &r) != 0 || r.status != 200) {
            fprintf(stderr, "dump failed\n");
            exit(1);
        }
        t[i] = now_ms() - t0;
        bytes = r.body_len;
        http_reply_free(&r);
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    printf("| %d | `%s` | %.1f ms | %.1f ms | %zu |\n", nthreads, target, t[RUNS / 2],
           t[RUNS * 9 / 10], bytes);
}

int main(void)
{
    int port = start_ephemeral();
    static pthread_t th[500];
    int n = 0;
    printf("| threads | request | median | p90 | bytes |\n|---|---|---|---|---|\n");
    for (int want = 10; want <= 500; want = want == 10 ? 100 : want * 5) {
        while (n < want)
            pthread_create(&th[n++], NULL, idle_thread, NULL);
        measure(port, "/debug/pprof/threads", n);
        measure(port, "/debug/pprof/threads?debug=2", n);
    }
    pthread_mutex_lock(&mu);
    quit = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    introspect_stop();
    return 0;
}
