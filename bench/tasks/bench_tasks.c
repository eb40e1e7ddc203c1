/* Cost of a task begin + end, stacks off and on, on 1..N threads.
 *
 *   cmake --build build && build/bench/bench_tasks [max_threads]
 *   INTROSPECT_TASK_STACKS=100 build/bench/bench_tasks 1    (birth stacks sampled)
 *
 * Prints ns per begin+end pair (median of 7 runs) for each configuration,
 * measured in each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) so a
 * loaded machine's descheduling does not count, next to the cost of one
 * clock_gettime(CLOCK_MONOTONIC) for scale (bench/common/per_thread.h). */
#define _GNU_SOURCE
#include <introspect.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/per_thread.h"

#define ITERS 2000000
#define RUNS 7

struct cfg {
    int with_deadline;
    int with_state;
};

static double loop(const void *p)
{
    const struct cfg *c = p;
    double t0 = bench_thread_cpu_s();
    for (int i = 0; i < ITERS; i++) {
        introspect_task *t;
        introspect_task_begin("http", "GET /api/items", c->with_deadline ? 1000000000 : 0, &t);
        if (c->with_state)
            introspect_task_set_state(t, "handling");
        introspect_task_end(t);
    }
    return (bench_thread_cpu_s() - t0) * 1e9 / ITERS;
}

static double run(int threads, int deadline, int state)
{
    struct cfg c = {deadline, state};
    return bench_threads_median(threads, RUNS, loop, &c);
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
           bench_clock_cost_ns(ITERS));
    printf("threads  begin+end  +deadline  +deadline+set_state   (ns per pair, median of %d)\n",
           RUNS);
    for (int t = 1; t <= maxthreads; t *= 2)
        printf("%7d  %9.1f  %9.1f  %19.1f\n", t, run(t, 0, 0), run(t, 1, 0), run(t, 1, 1));
    introspect_stop();
    return 0;
}
