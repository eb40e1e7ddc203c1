/* The leak sentinel's figures (bench/README.md, "Leak sentinel"), on the
 * injected clock of tests/leaks (one snapshot per simulated 10 s):
 *   detect   time until a leak of R bytes/minute (1 KiB blocks) is ranked
 *            first amid heavy churn (500 requests x 16 transient blocks of
 *            64..4096 B per interval, a 2000-entry working set replaced at
 *            random), at heap rates 64 KiB and 512 KiB; median of 3 seeds;
 *   memory   the history's bytes and retained span at the default budget
 *            over 7 simulated hours, with 512 churning stacks besides;
 *   cost     time per snapshot on the module thread (gathering + storing),
 *            per judgement, and per copy of the sampler's buckets (the only
 *            moment a host thread can wait for us: the sampler's lock);
 *   fds      the cost INTROSPECT_FD_STACKS adds to eventfd + close, pair-
 *            alternated: 1001 blocks of 2000 pairs with stacks on, then
 *            off, timed on the thread's CPU clock; median of the
 *            differences (the stack of a call 3 frames deep from main). */
#define _GNU_SOURCE
#define SEEDS 3
#include <dlfcn.h>
#include <introspect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include "leaks/fd_stacks.h"
#include "leaks/history.h"
#include "leaks/leaks.h"
#include "sampling/heap/heap.h"
#include "workload.h"

static int64_t g_now = 1700000000LL * 1000000000LL;
static int64_t fake_clock(void) { return g_now; }

static double mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int leak_first(void)
{
    struct ix_leak_report r;
    int ok = 0;
    if (ix_leaks_analyze(0, &r) == 0 && r.nsuspects && r.suspects[0].kind == IX_LEAK_HEAP) {
        Dl_info di;
        if (r.suspects[0].npcs && dladdr((void *)(r.suspects[0].pcs[0] - 1), &di) &&
            di.dli_sname && !strcmp(di.dli_sname, "leak_request_buffer")) {
            ok = 1;
            if (getenv("IX_BENCH_VERBOSE"))
                fprintf(stderr, "  found: growth %.0f samples, z %.1f, tau %.2f, now %.0f B, %.0f/h, "
                        "onset %d of %d\n", r.suspects[0].trend.growth, r.suspects[0].trend.poisson_z,
                        r.suspects[0].trend.tau, r.suspects[0].current, r.suspects[0].growth_per_hour,
                        r.suspects[0].trend.onset, r.snapshots);
        }
    }
    ix_leak_report_free(&r);
    return ok;
}

static void start(unsigned long rate)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = rate;
    if (introspect_start(&cfg)) {
        fprintf(stderr, "start: %s\n", introspect_last_error());
        exit(1);
    }
}

static void detect(unsigned only_kib)
{
    static const unsigned long rates[] = {65536, 524288};
    unsigned per_min_kib[] = {64, 256, 1024, 4096, 16384};
    size_t nrows = sizeof per_min_kib / sizeof per_min_kib[0];
    if (only_kib) { /* one row: `bench_leaks detect 16` */
        per_min_kib[0] = only_kib;
        nrows = 1;
    }
    printf("detect: simulated seconds until the leak is ranked first (median of 3 seeds, judged once a simulated minute; "
           "'>6h' = not within 6 simulated hours)\n");
    printf("%-14s", "leak KiB/min");
    for (size_t r = 0; r < 2; r++)
        printf(" rate %-8lu", rates[r]);
    printf("\n");
    for (size_t l = 0; l < nrows; l++) {
        printf("%-14u", per_min_kib[l]);
        for (size_t r = 0; r < 2; r++) {
            start(rates[r]);
            ix_history_set_clock(fake_clock);
            double t[SEEDS];
            for (int seed = 0; seed < SEEDS; seed++) {
                /* leaks per interval: KiB/min / 6, as whole and fractional KiB */
                double per_iv = per_min_kib[l] / 6.0, acc = 0;
                struct lw_config c = {.requests = 500, .churn_allocs = 16, .sessions = 2000,
                                      .session_replace = 500};
                lw_init(&c, 10 + (unsigned)seed);
                for (int i = 0; i < 30; i++)
                    lw_interval();
                ix_history_reset();
                ix_history_snapshot_now();
                int found = 0, i;
                for (i = 1; i <= 2160 && !found; i++) {
                    acc += per_iv;
                    lw_leak((unsigned)acc); /* freed at the seed's end */
                    acc -= (unsigned)acc;
                    lw_interval();
                    g_now += 10000000000LL;
                    ix_history_snapshot_now();
                    if (i % 6 == 0) /* looked at once a simulated minute */
                        found = leak_first();
                }
                t[seed] = found ? (i - 1) * 10.0 : 1e9;
                fprintf(stderr, "  %u KiB/min, rate %lu, seed %d: %.0f s\n", per_min_kib[l],
                        rates[r], seed, t[seed]);
                lw_finish();
            }
            double m = median(t, SEEDS);
            if (m >= 1e9)
                printf(" %-13s", ">6h");
            else
                printf(" %-13.0f", m);
            fflush(stdout);
            ix_history_set_clock(NULL);
            introspect_stop();
        }
        printf("\n");
    }
}

static void memory_and_cost(int n)
{
    start(524288);
    ix_history_set_clock(fake_clock);
    struct lw_config c = {.requests = 200, .churn_allocs = 16, .sessions = 2000,
                          .session_replace = 500, .stacks = 512, .churn_threads = 1,
                          .churn_fds = 2, .leak_bytes = 64};
    lw_init(&c, 7);
    for (int i = 0; i < 30; i++)
        lw_interval();
    ix_history_reset();
    double *cpu = malloc(sizeof *cpu * (size_t)n);
    double *snap = malloc(sizeof *snap * (size_t)n), *judge = malloc(sizeof *judge * (size_t)n),
           *copy = malloc(sizeof *copy * (size_t)n);
    for (int i = 0; i < n; i++) {
        lw_interval();
        g_now += 10000000000LL;
        double t0 = mono_us(), c0 = cpu_us();
        ix_history_snapshot_now();
        double t1 = mono_us();
        cpu[i] = cpu_us() - c0;
        struct ix_history_info info;
        ix_history_get_info(&info);
        snap[i] = info.last_snapshot_us;
        judge[i] = (t1 - t0) - info.last_snapshot_us;
        struct ix_heap_record *r;
        size_t nr;
        double t2 = mono_us();
        ix_heap_records(&r, &nr);
        copy[i] = mono_us() - t2;
        free(r);
        if (i == 359 || i == 2159 || i == n - 1)
            printf("memory: after %.1f simulated h: %zu snapshots spanning %.2f h, %zu series, "
                   "%zu bytes used of %zu; %llu dropped over the budget\n",
                   (i + 1) / 360.0, info.snapshots,
                   (double)(info.newest_ns - info.oldest_ns) / 3.6e12, info.series,
                   info.used_bytes, info.budget_bytes, (unsigned long long)info.dropped);
    }
    double mcpu = median(cpu, n);
    printf("cost: CPU time of one snapshot + judgement on the calling thread: median %.0f us, max %.0f us\n",
           mcpu, cpu[n - 1]);
    double ms = median(snap, n), mj = median(judge, n), mc = median(copy, n);
    /* median() sorted them: the last is the maximum */
    printf("cost: per snapshot (gather + store, module thread) median %.0f us, max %.0f us; "
           "per judgement of the default window median %.0f us, max %.0f us; copy of the "
           "sampler's buckets (sampler lock held) median %.0f us, max %.0f us\n",
           ms, snap[n - 1], mj, judge[n - 1], mc, copy[n - 1]);
    lw_finish();
    ix_history_set_clock(NULL);
    introspect_stop();
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

__attribute__((noinline)) static double fd_block(int n)
{
    double t0 = cpu_ns();
    for (int i = 0; i < n; i++)
        close(eventfd(0, EFD_CLOEXEC));
    return (cpu_ns() - t0) / n;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void fds(void)
{
    enum { B = 1001, N = 2000 };
    static double off[B], d[B];
    for (int b = 0; b < B; b++) {
        ix_fd_stacks_enable(b & 1);
        double x = fd_block(N);
        ix_fd_stacks_enable(!(b & 1));
        double y = fd_block(N);
        off[b] = b & 1 ? y : x;
        d[b] = b & 1 ? x - y : y - x;
    }
    ix_fd_stacks_enable(0);
    qsort(off, B, sizeof off[0], cmpd);
    qsort(d, B, sizeof d[0], cmpd);
    printf("fds: eventfd + close %.0f ns (stacks off, median); INTROSPECT_FD_STACKS adds %.0f ns "
           "(quartiles %.0f..%.0f)\n", off[B / 2], d[B / 2], d[B / 4], d[3 * B / 4]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "fds")) {
        fds();
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "detect"))
        detect(argc > 2 ? (unsigned)atoi(argv[2]) : 0);
    if (argc < 2 || !strcmp(argv[1], "memory")) /* 7 simulated hours, or `memory N` intervals */
        memory_and_cost(argc > 2 ? atoi(argv[2]) : 2520);
    return 0;
}
