/* Time to render /metrics over loopback with N labelled series (N from argv),
 * measured end to end (request, collect, encode, transfer). Prints the
 * median and p90 of 50 scrapes in milliseconds, and the body size. */
#include <introspect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int series = argc > 1 ? atoi(argv[1]) : 1000;
    int port = start_ephemeral();
    static const char *const labels[] = {"route", "code"};
    introspect_counter *c;
    ASSERT(introspect_counter_new("bench_requests_total", "Requests.", labels, 2, &c) == 0);
    for (int i = 0; i < series; i++) {
        char route[32], code[8];
        snprintf(route, sizeof route, "/api/v1/item%d", i / 5);
        snprintf(code, sizeof code, "%d", 200 + i % 5);
        const char *v[2] = {route, code};
        ASSERT(introspect_counter_add(c, v, i) == 0);
    }
    enum { RUNS = 50 };
    double t[RUNS];
    size_t bytes = 0;
    for (int i = 0; i < RUNS; i++) {
        struct http_reply r;
        double t0 = now_ms();
        ASSERT(http_get(port, "/metrics", &r) == 0 && r.status == 200);
        t[i] = now_ms() - t0;
        bytes = r.body_len;
        http_reply_free(&r);
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    printf("series=%d median_ms=%.2f p90_ms=%.2f bytes=%zu\n", series, t[RUNS / 2], t[RUNS * 9 / 10], bytes);
    introspect_stop();
    return 0;
}
