/* The demo's basic routes: a CPU-heavy one (the flame graph's hot path), a
 * slow one, and ones that fail, so latency percentiles and the 4xx/5xx
 * ratio have something to show. */
#include <stdint.h>
#include <time.h>

#include "demo.h"

/* Deliberately CPU-bound: a hash over a buffer, repeated until ms elapse. */
__attribute__((noinline)) uint64_t demo_hot_checksum(long ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile uint64_t h = 1469598103934665603ULL;
    for (;;) {
        for (int i = 0; i < 20000; i++)
            h = (h ^ (uint64_t)i) * 1099511628211ULL;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
            return h;
    }
}

/* A second, cheaper CPU consumer so flame graphs have more than one tower. */
__attribute__((noinline)) uint64_t demo_render_page(long n)
{
    volatile uint64_t acc = 0;
    for (long i = 0; i < n * 1000; i++)
        acc += (uint64_t)i * 2654435761u;
    return acc;
}

static void route_index(const struct demo_request *req, struct demo_reply *rep)
{
    (void)req;
    demo_reply_text(rep, 200, "hello from the introspect demo (rendered %llu)\n",
                    (unsigned long long)demo_render_page(200));
}

static void route_work(const struct demo_request *req, struct demo_reply *rep)
{
    long ms = demo_arg_long(req, "ms", 20, 1, 2000);
    demo_reply_text(rep, 200, "checksum %llx after %ld ms\n",
                    (unsigned long long)demo_hot_checksum(ms), ms);
}

static void route_slow(const struct demo_request *req, struct demo_reply *rep)
{
    long ms = demo_arg_long(req, "ms", 200, 0, 10000);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    demo_reply_text(rep, 200, "slept %ld ms\n", ms);
}

static void route_error(const struct demo_request *req, struct demo_reply *rep)
{
    (void)req;
    demo_reply_text(rep, 500, "simulated failure\n");
}

const struct demo_route demo_core_routes[] = {
    {"/", "hello page (a little CPU)", route_index},
    {"/work", "CPU-bound work for ?ms=N (demo_hot_checksum)", route_work},
    {"/slow", "sleeps ?ms=N before answering", route_slow},
    {"/error", "always answers 500", route_error},
    {NULL, NULL, NULL},
};
