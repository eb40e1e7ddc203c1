/* What an execution trace costs the host, and what it weighs.
 *
 *   build/bench/bench_trace [seconds=3] [runs=3] [extra query, e.g. "&cpu_hz=0"]
 *
 * A workload of 2 threads serves "requests" at a paced rate (1,000 and
 * 10,000 per second in total): each is a task begin, bind, a pool acquire
 * that does not wait, ~20 us of work, release, state, end. For each rate it
 * measures, over `seconds`, the whole process's CPU time (getrusage: the
 * workers, the module's sampler thread, the HTTP thread encoding the JSON)
 * with no trace, then while GET /debug/pprof/trace?seconds=N runs; the
 * difference divided by N is the host cost per second of tracing. The
 * workers' own CPU time (CLOCK_THREAD_CPUTIME_ID) is reported apart: the
 * recorder's cost on the hot path. Medians of `runs` runs. Prints a
 * Markdown table. */
#define _GNU_SOURCE
#include <introspect.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

#define WORKERS 2

static introspect_pool *g_pool;
static atomic_int g_stop;
static _Atomic long long g_worker_cpu_ns, g_done;
static long g_rate;
static const char *g_extra = ""; /* appended to the trace's query */

static long long mono(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double proc_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void spin_us(long us)
{
    long long end = mono(CLOCK_MONOTONIC) + us * 1000;
    while (mono(CLOCK_MONOTONIC) < end)
        ;
}

static void *worker(void *arg)
{
    (void)arg;
    long long c0 = mono(CLOCK_THREAD_CPUTIME_ID);
    double per_ms = (double)g_rate / WORKERS / 1000.0, owed = 0;
    long long next = mono(CLOCK_MONOTONIC);
    while (!atomic_load(&g_stop)) {
        owed += per_ms;
        for (; owed >= 1; owed -= 1) {
            introspect_task *t;
            introspect_task_begin("request", "GET /bench", 100000000, &t);
            introspect_task_bind_thread(t, 1);
            int64_t tok = introspect_pool_acquire_start(g_pool);
            introspect_pool_acquire_end(g_pool, tok, INTROSPECT_POOL_GOT, INTROSPECT_POOL_NOWAIT);
            spin_us(20);
            introspect_pool_release(g_pool);
            introspect_task_set_state(t, "200");
            introspect_task_end(t);
            atomic_fetch_add(&g_done, 1);
        }
        next += 1000000;
        struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    atomic_fetch_add(&g_worker_cpu_ns, mono(CLOCK_THREAD_CPUTIME_ID) - c0);
    return NULL;
}

/* ns of CPU per request (begin, bind, acquire, release, state, end) in a
 * tight loop on this thread. */
static double hot_path_ns(long n)
{
    long long c0 = mono(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        introspect_task *t;
        introspect_task_begin("request", "GET /bench", 100000000, &t);
        introspect_task_bind_thread(t, 1);
        int64_t tok = introspect_pool_acquire_start(g_pool);
        introspect_pool_acquire_end(g_pool, tok, INTROSPECT_POOL_GOT, INTROSPECT_POOL_NOWAIT);
        introspect_pool_release(g_pool);
        introspect_task_set_state(t, "200");
        introspect_task_end(t);
    }
    return (double)(mono(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;
}

static struct http_reply g_bg;
static int g_bg_port;
static void *bg_trace(void *arg)
{
    (void)arg;
    http_get(g_bg_port, "/debug/pprof/trace?seconds=2", &g_bg);
    return NULL;
}

struct result {
    double proc_cpu_s, worker_cpu_s, rate, sampler_ms, cpu_samples;
    size_t bytes;
};

static void one_run(int port, long seconds, int traced, struct result *r)
{
    atomic_store(&g_stop, 0);
    atomic_store(&g_worker_cpu_ns, 0);
    atomic_store(&g_done, 0);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    struct timespec warm = {0, 200000000};
    nanosleep(&warm, NULL);
    long long done0 = atomic_load(&g_done);
    double c0 = proc_cpu();
    long long t0 = mono(CLOCK_MONOTONIC);
    r->bytes = 0;
    if (traced) {
        char path[256];
        snprintf(path, sizeof path, "/debug/pprof/trace?seconds=%ld%s", seconds, g_extra);
        struct http_reply rep;
        if (http_get(port, path, &rep) == 0 && rep.status == 200) {
            r->bytes = rep.body_len;
            const char *p = strstr(rep.body, "\"sampler_cpu_ms\":");
            r->sampler_ms = p ? atof(p + 17) : -1;
            const char *c = strstr(rep.body, "\"cpu_samples\":");
            r->cpu_samples = c ? atof(c + 14) : 0;
        }
        else
            fprintf(stderr, "trace failed\n");
        http_reply_free(&rep);
    } else {
        struct timespec ts = {seconds, 0};
        nanosleep(&ts, NULL);
    }
    double c1 = proc_cpu();
    long long t1 = mono(CLOCK_MONOTONIC);
    long long done1 = atomic_load(&g_done);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(t1 - t0) / 1e9;
    r->proc_cpu_s = (c1 - c0) / secs;
    r->worker_cpu_s = (double)atomic_load(&g_worker_cpu_ns) / 1e9; /* whole run, both modes alike */
    r->rate = (double)(done1 - done0) / secs;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    long seconds = argc > 1 ? atol(argv[1]) : 3;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (argc > 3)
        g_extra = argv[3];
    int port = start_ephemeral();
    introspect_pool_register("bench", 4, &g_pool);
    /* The hot path alone: no trace (the hook's branch), then inside a trace
     * (1,000 then 7 x 700 requests, 4 events each: under the ring's 32,768 records of a 2 s trace). */
    double off[7], on[7];
    for (int i = 0; i < 7; i++)
        off[i] = hot_path_ns(20000);
    g_bg_port = port;
    pthread_t bg;
    pthread_create(&bg, NULL, bg_trace, NULL);
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
    double first = hot_path_ns(1000); /* the ring's first touch: page faults */
    for (int i = 0; i < 7; i++)
        on[i] = hot_path_ns(700);
    pthread_join(bg, NULL);
    const char *d = g_bg.body ? strstr(g_bg.body, "\"dropped_events\":") : NULL;
    printf("hot path per request (begin, bind, acquire, release, state, end), thread CPU, median of 7: "
           "no trace %.0f ns, tracing %.0f ns (the first 1,000 requests of the trace: %.0f ns, the "
           "ring's pages faulted in; trace dropped %ld events)\n\n",
           median(off, 7), median(on, 7), first, d ? atol(d + 17) : -1L);
    http_reply_free(&g_bg);
    printf("| requests/s (achieved) | process CPU, no trace | process CPU, tracing | host cost per s of tracing "
           "| of which the state sampler | workers' CPU per s, no trace / tracing | trace size per s "
           "| CPU samples per s |\n"
           "|---|---|---|---|---|---|---|---|\n");
    static const long rates[] = {1000, 10000};
    for (size_t k = 0; k < 2; k++) {
        g_rate = rates[k];
        double base[16], traced[16], wb[16], wt[16], bytes[16], rate[16], samp[16], cs[16];
        for (int i = 0; i < runs && i < 16; i++) {
            struct result a, b;
            one_run(port, seconds, 0, &a);
            one_run(port, seconds, 1, &b);
            base[i] = a.proc_cpu_s;
            traced[i] = b.proc_cpu_s;
            wb[i] = a.worker_cpu_s / (seconds + 0.2);
            wt[i] = b.worker_cpu_s / (seconds + 0.2);
            bytes[i] = (double)b.bytes / (double)seconds;
            rate[i] = b.rate;
            samp[i] = b.sampler_ms / (double)seconds;
            cs[i] = b.cpu_samples / (double)seconds;
        }
        double mb = median(base, runs), mt = median(traced, runs);
        printf("| %ld (%.0f) | %.1f%% of a core | %.1f%% | %.1f ms CPU | %.1f ms | %.1f%% / %.1f%% | %.0f KB "
               "| %.0f |\n",
               rates[k], median(rate, runs), mb * 100, mt * 100, (mt - mb) * 1000, median(samp, runs),
               median(wb, runs) * 100, median(wt, runs) * 100, median(bytes, runs) / 1024,
               median(cs, runs));
        fflush(stdout);
    }
    return 0;
}
