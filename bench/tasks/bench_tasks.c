/* Cost of a task begin + end, stacks off and on, on 1..N threads.
 *
 *   cmake --build build && build/bench/bench_tasks [max_threads]
 *   INTROSPECT_TASK_STACKS=100 build/bench/bench_tasks 1    (birth stacks sampled)
 *
 * Prints ns per begin+end pair (median of 7 runs) for each configuration,
 * measured in each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) so a
 * loaded machine's descheduling does not count, next to the cost of one
 * clock_gettime(CLOCK_MONOTONIC) for scale. */
#define _GNU_SOURCE
#include <introspect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 2000000
#define RUNS 7

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct arg {
    int with_deadline;
    int with_state;
    double ns;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *loop(void *p)
{
    struct arg *a = p;
    double t0 = cpu_now();
    for (int i = 0; i < ITERS; i++) {
        introspect_task *t;
        introspect_task_begin("http", "GET /api/items", a->with_deadline ? 1000000000 : 0, &t);
        if (a->with_state)
            introspect_task_set_state(t, "handling");
        introspect_task_end(t);
    }
    a->ns = (cpu_now() - t0) * 1e9 / ITERS;
    return NULL;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median over RUNS of the mean per-thread ns per pair. */
static double run(int threads, int deadline, int state)
{
    double r[RUNS];
    for (int k = 0; k < RUNS; k++) {
        pthread_t th[16];
        struct arg a[16];
        for (int i = 0; i < threads; i++) {
            a[i] = (struct arg){deadline, state, 0};
            pthread_create(&th[i], NULL, loop, &a[i]);
        }
        double sum = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            sum += a[i].ns;
        }
        r[k] = sum / threads;
    }
    qsort(r, RUNS, sizeof r[0], cmp);
    return r[RUNS / 2];
}

static double clock_cost(void)
{
    double t0 = cpu_now();
    double x = 0;
    for (int i = 0; i < ITERS; i++)
        x += now();
    if (x < 0) /* keep the calls */
        printf("impossible\n");
    return (cpu_now() - t0) * 1e9 / ITERS;
}

int main(int argc, char **argv)
{
    int maxthreads = argc > 1 ? atoi(argv[1]) : 4;
    const char *stacks = getenv("INTROSPECT_TASK_STACKS");
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    if (introspect_start(&cfg)) /* applies INTROSPECT_TASK_STACKS */
        return 1;
    printf("INTROSPECT_TASK_STACKS=%s, clock_gettime: %.1f ns\n", stacks ? stacks : "0",
           clock_cost());
    printf("threads  begin+end  +deadline  +deadline+set_state   (ns per pair, median of %d)\n",
           RUNS);
    for (int t = 1; t <= maxthreads; t *= 2)
        printf("%7d  %9.1f  %9.1f  %19.1f\n", t, run(t, 0, 0), run(t, 1, 0), run(t, 1, 1));
    introspect_stop();
    return 0;
}
