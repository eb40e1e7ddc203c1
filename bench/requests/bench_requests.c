/* Cost of a request begin + end (task, route label, latency sample) on 1..N
 * threads, next to a bare task begin + end and a clock read.
 *
 *   cmake --build build && build/bench/bench_requests [max_threads]
 *
 * Prints ns per pair (median of 7 runs of 1,000,000 pairs per thread), in
 * each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) so descheduling on a
 * loaded machine does not count (bench/common/per_thread.h). Threads use 4
 * routes round-robin (the same routes on every thread: they share each
 * route's histogram). "+ tenant" runs with a host label set on the thread
 * (introspect_labels_push), so the route label is merged into an existing
 * set (an interned-table lookup). */
#define _GNU_SOURCE
#include <introspect.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/per_thread.h"

#define ITERS 1000000
#define RUNS 7

enum { TASK, REQUEST, REQUEST_TENANT };

static const char *const routes[4] = {"/api/items", "/api/users/:id", "/login", "/static/*"};

static double loop(const void *p)
{
    int mode = *(const int *)p;
    if (mode == REQUEST_TENANT)
        introspect_labels_push("tenant", "acme");
    double t0 = bench_thread_cpu_s();
    for (int i = 0; i < ITERS; i++) {
        if (mode == TASK) {
            introspect_task *t;
            introspect_task_begin("request", routes[i & 3], 0, &t);
            introspect_task_end(t);
        } else {
            introspect_request r;
            introspect_request_begin(&r, routes[i & 3], "GET", 0);
            introspect_request_end(&r, 200);
        }
    }
    double ns = (bench_thread_cpu_s() - t0) * 1e9 / ITERS;
    if (mode == REQUEST_TENANT)
        introspect_labels_pop();
    return ns;
}

static double run(int threads, int mode) { return bench_threads_median(threads, RUNS, loop, &mode); }

int main(int argc, char **argv)
{
    int maxthreads = argc > 1 ? atoi(argv[1]) : 2;
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    if (introspect_start(&cfg))
        return 1;
    printf("clock_gettime(CLOCK_MONOTONIC): %.1f ns\n", bench_clock_cost_ns(ITERS));
    printf("threads  task begin+end  request begin+end  request + tenant label   (ns per pair, "
           "median of %d)\n", RUNS);
    for (int t = 1; t <= maxthreads; t *= 2)
        printf("%7d  %14.1f  %17.1f  %22.1f\n", t, run(t, TASK), run(t, REQUEST),
               run(t, REQUEST_TENANT));
    introspect_stop();
    return 0;
}
