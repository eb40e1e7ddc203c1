/* The leak sentinel on simulated time: real allocations, threads and
 * descriptors through the real samplers at the default heap rate (512 KiB),
 * with the history's clock injected and one snapshot per simulated 10 s.
 *
 *  1. A server leaking 1 KiB per request (50 requests/s) from one stack amid
 *     heavy churn (16 transient blocks of 64..4096 B per request, ~30
 *     samples per interval that are freed again), a steady working set
 *     replaced at random, and a cache that fills for 6 minutes then stays
 *     flat: the leaking stack is ranked first within 10 minutes; the cache
 *     is not a suspect 4 minutes after it flattens; the endpoint, pprof, ?base= and /metrics
 *     agree; INTROSPECT_LEAK_REPORT's stderr line names the stack.
 *  2. A thread leak (parked threads) and a descriptor leak (eventfds) amid
 *     steady thread and pipe churn: both reported, the threads with their
 *     creating stack, the descriptors by type.
 *  2b. The same descriptor leak with INTROSPECT_FD_STACKS=1: reported by
 *     its creating stack too; the churning pipes' stack is not.
 *  3. Steady workloads (churn, a working set replaced at random, threads
 *     and pipes created and closed; descriptors tracked by creating stack),
 *     20 seeds x 1 simulated hour, judged
 *     after every snapshot (7200 judgements): false positives are counted
 *     and must be 0.
 * Noise: the leak stack gains ~1 sample per interval (Poisson); the
 * judgement needs 24 snapshots (4 min) and z >= 4 (>= 16 samples from
 * zero): expected after ~4-5 min, against the 10-minute bound. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <introspect.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "heap/heap_test_util.h"
#include "leaks/history.h"
#include "leaks/leaks.h"
#include "workload.h"

#define INTERVAL_NS (10LL * 1000000000LL)
#define REQUESTS 500 /* per 10 s: 50 requests/s */

static int64_t g_now = 1700000000LL * 1000000000LL;
static int64_t fake_clock(void) { return g_now; }

static void tick(void)
{
    lw_interval();
    g_now += INTERVAL_NS;
    ASSERT(ix_history_snapshot_now() == 0);
}

static const char *fn_name(uintptr_t pc)
{
    Dl_info di;
    if (dladdr((void *)(pc - 1), &di) && di.dli_sname)
        return di.dli_sname;
    return "?";
}

static int stack_has(const struct ix_leak_suspect *s, const char *fn)
{
    for (int i = 0; i < s->npcs && i < 4; i++)
        if (!strcmp(fn_name(s->pcs[i]), fn))
            return 1;
    return 0;
}

/* Rank of the suspect of kind k whose stack has fn (or named fn), 0 if none. */
static int rank_of(const struct ix_leak_report *r, enum ix_leak_kind k, const char *fn)
{
    for (int i = 0; i < r->nsuspects; i++)
        if (r->suspects[i].kind == k &&
            (stack_has(&r->suspects[i], fn) || (r->suspects[i].name && !strcmp(r->suspects[i].name, fn))))
            return r->suspects[i].rank;
    return 0;
}

static void dump(const struct ix_leak_report *r)
{
    for (int i = 0; i < r->nsuspects; i++) {
        const struct ix_leak_suspect *s = &r->suspects[i];
        printf("  #%d %s %s %s/%s: %.0f/h now %.0f, z=%.1f mk=%.1f tau=%.2f g=%.0f\n", s->rank,
                ix_leak_kind_name(s->kind), s->name ? s->name : "",
                s->npcs ? fn_name(s->pcs[0]) : "", s->npcs > 1 ? fn_name(s->pcs[1]) : "",
                s->growth_per_hour, s->current, s->trend.poisson_z, s->trend.mk_z, s->trend.tau,
                s->trend.growth);
    }
}

static char *get_ok(int port, const char *target, struct http_reply *r)
{
    ASSERT(http_get(port, target, r) == 0);
    if (r->status != 200)
        fprintf(stderr, "%s: %d %s\n", target, r->status, r->body);
    ASSERT_EQ(r->status, 200);
    return r->body;
}

static void expect_400(int port, const char *target, const char *why)
{
    struct http_reply r;
    ASSERT(http_get(port, target, &r) == 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, why);
    ASSERT(strchr(r.body, '\n') == r.body + strlen(r.body) - 1); /* one line */
    http_reply_free(&r);
}

/* IX_LEAKS_FIXTURES=dir: save what the UI's tests draw (tests/ui/fixtures). */
static void save_fixture(int port, const char *target, const char *file)
{
    const char *dir = getenv("IX_LEAKS_FIXTURES");
    if (!dir)
        return;
    struct http_reply r;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    get_ok(port, target, &r);
    FILE *f = fopen(path, "w");
    ASSERT(f);
    fwrite(r.body, 1, r.body_len, f);
    fclose(f);
    http_reply_free(&r);
}

static void check_http(int port)
{
    struct http_reply r;
    save_fixture(port, "/debug/pprof/leaks?format=json&window=30m", "leaks.json");
    save_fixture(port, "/debug/pprof/heap?format=json", "leaks_heap_now.json");
    save_fixture(port, "/debug/pprof/heap?base=-5m&format=json", "leaks_heap_delta.json");
    /* text: the leak is #1 with its stack */
    char *t = get_ok(port, "/debug/pprof/leaks", &r);
    ASSERT_STR_CONTAINS(t, "#1 heap");
    char *first = strstr(t, "#1 heap"), *second = strstr(t, "\n#2");
    char *at = strstr(t, "leak_request_buffer");
    ASSERT(at && first && at > first && (!second || at < second));
    http_reply_free(&r);
    /* JSON, checked by python's parser */
    t = get_ok(port, "/debug/pprof/leaks?format=json&window=30m", &r);
    ASSERT_STR_CONTAINS(t, "\"kind\":\"heap\"");
    ASSERT_STR_CONTAINS(t, "\"function\":\"leak_request_buffer\"");
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "s=d[\"suspects\"][0]; assert s[\"rank\"]==1 and s[\"kind\"]==\"heap\"; "
             "assert s[\"stack\"][0][\"function\"]==\"leak_request_buffer\"; "
             "assert len(s[\"series\"])==d[\"snapshots\"]; assert s[\"growth_per_hour\"]>0; "
             "print(d[\"snapshots\"], s[\"growth_per_hour\"])' %s",
             write_temp("leaks-json", r.body, r.body_len));
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("json: %s", out);
    free(out);
    http_reply_free(&r);
    /* pprof: go tool pprof and protoc read it */
    get_ok(port, "/debug/pprof/leaks?format=pprof", &r);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Disposition"), "leaks");
    const char *path = write_temp("leaks-pprof", r.body, r.body_len);
    struct top_row rows[64];
    char args[512];
    snprintf(args, sizeof args, "-sample_index=inuse_space %s", path);
    int n = pprof_top(args, rows, 64, NULL);
    ASSERT(n > 0);
    ASSERT(strcmp(rows[0].name, "leak_request_buffer") == 0);
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode perftools.profiles.Profile --proto_path=$(dirname "
             "$IX_PROFILE_PROTO) $IX_PROFILE_PROTO",
             path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "string_table: \"inuse_space\"");
    ASSERT_STR_CONTAINS(out, "string_table: \"growth_per_hour\"");
    free(out);
    http_reply_free(&r);
    /* parameters */
    expect_400(port, "/debug/pprof/leaks?window=abc", "invalid value for \"window\"");
    expect_400(port, "/debug/pprof/leaks?window=100h", "window exceeds the history kept");
    expect_400(port, "/debug/pprof/leaks?format=xml", "unknown format");
    get_ok(port, "/debug/pprof/leaks?window=5m", &r);
    http_reply_free(&r);
    /* ?base=: the delta against 5 simulated minutes ago is the leak of 5 minutes */
    get_ok(port, "/debug/pprof/heap?base=-5m", &r);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Disposition"), "heap-delta");
    snprintf(args, sizeof args, "-sample_index=inuse_space %s",
             write_temp("heap-base", r.body, r.body_len));
    http_reply_free(&r);
    n = pprof_top(args, rows, 64, NULL);
    ASSERT(n > 0);
    ASSERT(strcmp(rows[0].name, "leak_request_buffer") == 0);
    double truth = 30.0 * REQUESTS * 1024; /* 30 intervals */
    double err = ((double)rows[0].flat - truth) / truth;
    /* ~30 samples: sd ~18%; 60% is > 3 sd */
    printf("base=-5m: leak_request_buffer %lld bytes, truth %.0f, error %+.0f%%\n", rows[0].flat,
           truth, 100 * err);
    ASSERT(fabs(err) < 0.6);
    char target[128];
    snprintf(target, sizeof target, "/debug/pprof/heap?base=%lld",
             (long long)(g_now / 1000000000LL - 20 * 60));
    get_ok(port, target, &r); /* absolute: 20 min ago is the oldest snapshot */
    http_reply_free(&r);
    snprintf(target, sizeof target, "/debug/pprof/heap?base=%lld",
             (long long)(g_now / 1000000000LL - 3 * 3600));
    expect_400(port, target, "no heap snapshot retained that old");
    expect_400(port, "/debug/pprof/heap?base=-abc", "invalid value for \"base\"");
    expect_400(port, "/debug/pprof/heap?base=-1m&seconds=5", "incompatible");
    /* /metrics: every series, the heap suspect counted; promtool agrees */
    t = get_ok(port, "/metrics", &r);
    ASSERT_STR_CONTAINS(t, "introspect_leak_suspects{kind=\"heap\"} 1\n");
    ASSERT_STR_CONTAINS(t, "introspect_leak_suspects{kind=\"fds\"} 0\n");
    ASSERT_STR_CONTAINS(t, "introspect_leak_growth_per_hour{kind=\"threads\",rank=\"3\"} 0\n");
    ASSERT(!strstr(t, "introspect_leak_growth_bytes_per_hour{rank=\"1\"} 0\n"));
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1",
             write_temp("metrics", r.body, r.body_len));
    int prc = run_cmd(cmd, &out);
    if (prc)
        fprintf(stderr, "%s\n", out);
    ASSERT_EQ(prc, 0);
    free(out);
    http_reply_free(&r);
}

/* 1: heap leak amid churn, plus a cache that plateaus. */
static void scenario_heap(int port)
{
    ix_history_reset();
    struct lw_config c = {.requests = REQUESTS, .leak_bytes = 1024, .churn_allocs = 16,
                          .cache_fill = 1000, .cache_cap = 36000, /* flat after 6 min */
                          .sessions = 2000, .session_replace = 500};
    lw_init(&c, 1);
    /* stderr report: into a file for the duration */
    char errpath[] = "/tmp/ix-leaks-stderr-XXXXXX";
    int efd = mkstemp(errpath);
    ASSERT(efd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(efd, 2);
    ix_leaks_configure(1);
    ASSERT(ix_history_snapshot_now() == 0);
    int detected = 0, cache_seen = 0;
    struct ix_leak_report r;
    for (int i = 1; i <= 120; i++) { /* 20 simulated minutes */
        tick();
        ASSERT(ix_leaks_analyze(0, &r) == 0);
        if (!detected && rank_of(&r, IX_LEAK_HEAP, "leak_request_buffer") == 1)
            detected = i;
        if (rank_of(&r, IX_LEAK_HEAP, "cache_insert"))
            cache_seen = i;
        if (i == 60 || i == 120) {
            if (rank_of(&r, IX_LEAK_HEAP, "leak_request_buffer") != 1 ||
                rank_of(&r, IX_LEAK_HEAP, "cache_insert"))
                dump(&r);
            ASSERT_EQ(rank_of(&r, IX_LEAK_HEAP, "leak_request_buffer"), 1);
            ASSERT_EQ(rank_of(&r, IX_LEAK_HEAP, "cache_insert"), 0);
            ASSERT_EQ(rank_of(&r, IX_LEAK_HEAP, "session_create"), 0);
            ASSERT_EQ(rank_of(&r, IX_LEAK_HEAP, "churn_parse_header"), 0);
            ASSERT_EQ(rank_of(&r, IX_LEAK_HEAP, "churn_render_body"), 0);
        }
        ix_leak_report_free(&r);
    }
    ix_leaks_configure(0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *log = NULL;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cat %s", errpath);
    run_cmd(cmd, &log);
    close(efd);
    unlink(errpath);
    printf("heap leak: ranked first after %d s of simulated time; cache last a suspect at %d s "
           "(it stops growing at 360 s)\nstderr report:\n%s",
           detected * 10, cache_seen * 10, log ? log : "");
    ASSERT(detected > 0 && detected <= 60);
    ASSERT_STR_CONTAINS(log, "introspect: leak suspect: heap grows");
    ASSERT_STR_CONTAINS(log, "leak_request_buffer");
    free(log);
    check_http(port);
    lw_finish();
}

/* 1b: the same leak in sizes spread over 256..1792 bytes: the sampler keeps
 * one bucket per (stack, size), so each sample lands in a bucket of its
 * own; the history sums a stack's buckets into one series, which must rank
 * first within 10 minutes as the fixed-size leak does (per bucket, no
 * series would hold more than a sample or two and none would be judged). */
static void scenario_heap_sizes(void)
{
    ix_history_reset();
    struct lw_config c = {.requests = REQUESTS, .leak_bytes = 1024, .leak_spread = 768,
                          .churn_allocs = 16, .sessions = 2000, .session_replace = 500};
    lw_init(&c, 7);
    ASSERT(ix_history_snapshot_now() == 0);
    int detected = 0;
    struct ix_leak_report r;
    for (int i = 1; i <= 60 && !detected; i++) {
        tick();
        ASSERT(ix_leaks_analyze(0, &r) == 0);
        if (rank_of(&r, IX_LEAK_HEAP, "leak_request_buffer") == 1)
            detected = i;
        if (i == 60 && !detected)
            dump(&r);
        ix_leak_report_free(&r);
    }
    /* The sampler's buckets for that stack, against the one series. */
    struct ix_heap_record *hr;
    size_t nh, buckets = 0;
    ASSERT(ix_heap_records(&hr, &nh) == 0);
    for (size_t q = 0; q < nh; q++)
        if (hr[q].npcs > 0 && !strcmp(fn_name(hr[q].pcs[0]), "leak_request_buffer"))
            buckets++;
    free(hr);
    printf("heap leak in spread sizes: %zu sampler buckets for its stack, ranked first after %d s\n",
           buckets, detected * 10);
    ASSERT(buckets > 5);
    ASSERT(detected > 0 && detected <= 60);
    lw_finish();
}

/* 2: threads that never exit and descriptors never closed. */
static void scenario_threads_fds(int port)
{
    ix_history_reset();
    struct lw_config c = {.requests = 100, .churn_allocs = 8, .leak_threads = 1, .leak_fds = 1,
                          .churn_threads = 2, .churn_fds = 3};
    lw_init(&c, 2);
    ASSERT(ix_history_snapshot_now() == 0);
    int th = 0, fd = 0;
    struct ix_leak_report r;
    for (int i = 1; i <= 60; i++) {
        tick();
        ASSERT(ix_leaks_analyze(0, &r) == 0);
        if (!th && rank_of(&r, IX_LEAK_THREADS, "spawn_parked_worker"))
            th = i;
        if (!fd && rank_of(&r, IX_LEAK_FDS, "eventfd"))
            fd = i;
        if (i == 60) {
            if (!rank_of(&r, IX_LEAK_THREADS, "spawn_parked_worker") ||
                !rank_of(&r, IX_LEAK_FDS, "eventfd") || r.nsuspects != 2)
                dump(&r);
            ASSERT(rank_of(&r, IX_LEAK_THREADS, "spawn_parked_worker"));
            ASSERT(rank_of(&r, IX_LEAK_FDS, "eventfd"));
            ASSERT_EQ(r.nsuspects, 2); /* not the churning threads nor pipes */
        }
        ix_leak_report_free(&r);
    }
    printf("thread leak (1 per 10 s) reported after %d s, descriptor leak (1 per 10 s) after %d s\n",
           th * 10, fd * 10);
    struct http_reply hr;
    char *t = get_ok(port, "/debug/pprof/leaks", &hr);
    ASSERT_STR_CONTAINS(t, "threads: +");
    ASSERT_STR_CONTAINS(t, "created at:");
    ASSERT_STR_CONTAINS(t, "spawn_parked_worker");
    ASSERT_STR_CONTAINS(t, "fds eventfd: +");
    http_reply_free(&hr);
    t = get_ok(port, "/metrics", &hr);
    ASSERT_STR_CONTAINS(t, "introspect_leak_suspects{kind=\"threads\"} 1\n");
    ASSERT_STR_CONTAINS(t, "introspect_leak_suspects{kind=\"fds\"} 1\n");
    http_reply_free(&hr);
    lw_finish();
}

/* 2b: INTROSPECT_FD_STACKS=1: the descriptor leak is also reported by its
 * creating stack (open_leaked_eventfd), the churning pipes' stack is not a
 * suspect, and the text report prints the stack. */
static void scenario_fd_stacks(int port)
{
    ix_history_reset();
    struct lw_config c = {.requests = 100, .churn_allocs = 8, .leak_fds = 1, .churn_fds = 3};
    lw_init(&c, 3);
    ASSERT(ix_history_snapshot_now() == 0);
    int found = 0;
    struct ix_leak_report r;
    for (int i = 1; i <= 60; i++) {
        tick();
        ASSERT(ix_leaks_analyze(0, &r) == 0);
        int by_stack = 0, pipes = 0;
        for (int k = 0; k < r.nsuspects; k++) {
            const struct ix_leak_suspect *s = &r.suspects[k];
            if (s->kind == IX_LEAK_FDS && s->npcs && stack_has(s, "open_leaked_eventfd"))
                by_stack = 1;
            if (s->kind == IX_LEAK_FDS && s->npcs && !stack_has(s, "open_leaked_eventfd"))
                pipes = 1;
        }
        if (pipes)
            dump(&r);
        ASSERT(!pipes); /* the churning pipes' stack is no suspect */
        if (by_stack && !found)
            found = i;
        ix_leak_report_free(&r);
    }
    printf("descriptor leak by creating stack reported after %d s\n", found * 10);
    ASSERT(found > 0 && found <= 60);
    struct http_reply h;
    char *t = get_ok(port, "/debug/pprof/leaks", &h);
    ASSERT_STR_CONTAINS(t, "open_leaked_eventfd");
    http_reply_free(&h);
    lw_finish();
}

/* 3: steady workloads: nothing is a suspect. */
static void scenario_steady(void)
{
    int seeds = 20, judgements = 0, positives = 0;
    int first = getenv("IX_LEAKS_SEED") ? atoi(getenv("IX_LEAKS_SEED")) : 0; /* by hand: one seed */
    if (getenv("IX_LEAKS_SEED"))
        seeds = first + 1;
    for (int seed = first; seed < seeds; seed++) {
        /* half the requests and churn of scenario 1 (~15 transient samples
         * per interval), to keep 20 simulated hours cheap */
        struct lw_config c = {.requests = REQUESTS / 2, .churn_allocs = 16, .sessions = 2000,
                              .session_replace = 500, .churn_threads = 2, .churn_fds = 3};
        lw_init(&c, 100 + (unsigned)seed);
        /* Warm up: the working set is replaced from another stack than the
         * one that built it; after 30 intervals 99.98% of it comes from the
         * replacing stack, which is then in its steady state. */
        for (int i = 0; i < 30; i++)
            lw_interval();
        ix_history_reset();
        ASSERT(ix_history_snapshot_now() == 0);
        for (int i = 1; i <= 360; i++) {
            tick();
            if (getenv("IX_LEAKS_DEBUG")) {
                struct ix_heap_record *hr;
                size_t nh;
                ix_heap_records(&hr, &nh);
                for (size_t q = 0; q < nh; q++)
                    if (hr[q].npcs > 1 && !strcmp(fn_name(hr[q].pcs[0]), "session_create"))
                        fprintf(stderr, "%d %s live %llu\n", i, fn_name(hr[q].pcs[1]),
                                (unsigned long long)(hr[q].allocs - hr[q].frees));
                free(hr);
            }
            struct ix_leak_summary s;
            ix_leaks_get_summary(&s);
            ASSERT(s.valid);
            judgements++;
            int n = 0;
            for (int k = 0; k < IX_LEAK_NKINDS; k++)
                n += s.count[k];
            if (n) {
                positives++;
                struct ix_leak_report r;
                ix_leaks_analyze(0, &r);
                fprintf(stderr, "seed %d, %d s: false positive\n", seed, i * 10);
                dump(&r);
                ix_leak_report_free(&r);
            }
        }
        lw_finish();
    }
    printf("steady: %d false positives in %d judgements (%d seeds x 1 simulated hour)\n",
           positives, judgements, seeds - first);
    ASSERT_EQ(positives, 0);
}

/* The module on an ephemeral port with the default configuration (heap
 * rate 512 KiB, a snapshot every 10 s) and the test's clock, set before the
 * thread's first snapshot (10 real seconds away; with a test clock the
 * thread takes none). */
static int start_module(void)
{
    skip_if_sanitized();
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    ASSERT_EQ(cfg.heap_rate, 524288);
    ASSERT_EQ(cfg.history_interval_s, 10);
    ix_history_set_clock(fake_clock);
    ASSERT_EQ(introspect_start(&cfg), 0);
    return introspect_port();
}

TEST(heap_leak_ranked_first_within_10_minutes)
{
    scenario_heap(start_module());
    ASSERT_EQ(introspect_stop(), 0);
}

TEST(heap_leak_in_many_sizes_is_one_stack)
{
    start_module();
    scenario_heap_sizes();
    ASSERT_EQ(introspect_stop(), 0);
}

TEST(thread_and_descriptor_leaks_reported)
{
    scenario_threads_fds(start_module());
    ASSERT_EQ(introspect_stop(), 0);
}

TEST(descriptor_leak_reported_with_creating_stack)
{
    setenv("INTROSPECT_FD_STACKS", "1", 1);
    int port = start_module();
    scenario_fd_stacks(port);
    ASSERT_EQ(introspect_stop(), 0);
    unsetenv("INTROSPECT_FD_STACKS");
}

TEST(steady_workloads_have_no_suspect)
{
    alarm(1100); /* 20 simulated hours: ~20 s of CPU, minutes on a loaded machine */
    setenv("INTROSPECT_FD_STACKS", "1", 1); /* the pipes' creating stack is judged too */
    start_module();
    scenario_steady();
    ASSERT_EQ(introspect_stop(), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(heap_leak_ranked_first_within_10_minutes),
    TEST_ENTRY(heap_leak_in_many_sizes_is_one_stack),
    TEST_ENTRY(thread_and_descriptor_leaks_reported),
    TEST_ENTRY(descriptor_leak_reported_with_creating_stack),
    TEST_ENTRY(steady_workloads_have_no_suspect),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
