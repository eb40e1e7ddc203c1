/* Requests by route: percentiles against the exact ones, status classes,
 * the route cap, the task and label a request carries, Prometheus output
 * checked by promtool, and SLO burn-rate alerts on an injected clock.
 * Links the static library for ix_requests_set_clock (a test-only hook). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "labels/labels.h"
#include "model/metrics.h"
#include "requests/requests.h"
#include "util/clock.h"

/* Numbers out of a JSON body: one python3 run evaluates each expression on
 * d (the document); one per line. */
static void jnums(const char *body, int n, const char *const *exprs, double *out)
{
    const char *f = write_temp("req_json", body, strlen(body));
    const char *pf = write_temp("req_py", "", 0);
    FILE *py = fopen(pf, "w");
    ASSERT(py != NULL);
    fprintf(py, "import json\nd = json.load(open(\"%s\"))\n", f);
    for (int i = 0; i < n; i++)
        fprintf(py, "print(float(%s))\n", exprs[i]);
    fclose(py);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "python3 %s 2>&1", pf);
    char *res = NULL;
    int rc = run_cmd(cmd, &res);
    if (rc != 0)
        ix_test_fail(__FILE__, __LINE__, "python3 failed: %s\n%.1500s", res ? res : "", body);
    char *p = res;
    for (int i = 0; i < n; i++) {
        out[i] = strtod(p, &p);
        while (*p == '\n')
            p++;
    }
    free(res);
    unlink(f);
    unlink(pf);
}

static double jnum(const char *body, const char *expr)
{
    double v;
    jnums(body, 1, &expr, &v);
    return v;
}

static char *get(int port, const char *path)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, path, &r), 0);
    ASSERT_EQ(r.status, 200);
    char *b = strdup(r.body);
    http_reply_free(&r);
    return b;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted v. */
static int64_t exact_q(const int64_t *v, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

/* A skewed latency: most requests fast, a long tail (deterministic). */
static int64_t latency(unsigned *seed, int64_t base)
{
    double u = (double)(rand_r(seed) % 1000000 + 1) / 1000001.0;
    return base + (int64_t)((double)base * 3 * -log(u));
}

TEST(percentiles_match_exact_within_stated_error)
{
    int port = start_ephemeral();
    enum { N = 20000 };
    static int64_t a[N], b[N];
    unsigned seed = 42;
    for (int i = 0; i < N; i++) {
        a[i] = latency(&seed, 2000000);  /* ~2 ms */
        b[i] = latency(&seed, 150000);   /* ~150 us */
        ASSERT_OK(introspect_request_observe("/api/a", "GET", 200, a[i]));
        ASSERT_OK(introspect_request_observe("/api/b", "POST", 200, b[i]));
    }
    qsort(a, N, sizeof a[0], cmp_i64);
    qsort(b, N, sizeof b[0], cmp_i64);
    char *body = get(port, "/debug/requests?format=json");
    static const struct { const char *key; double q; } qs[] = {
        {"p50_ms", 0.5}, {"p90_ms", 0.9}, {"p95_ms", 0.95}, {"p99_ms", 0.99}, {"max_ms", 1}};
    static const char *const wn[3] = {"1m", "5m", "1h"};
    enum { NQ = sizeof qs / sizeof qs[0], NE = 2 * 3 * NQ };
    static char texts[NE][200];
    const char *exprs[NE];
    double got[NE];
    for (int r = 0, e = 0; r < 2; r++)
        for (int w = 0; w < 3; w++)
            for (int k = 0; k < NQ; k++, e++) {
                snprintf(texts[e], sizeof texts[e],
                         "[x for x in d[\"routes\"] if x[\"route\"]==\"%s\"][0][\"windows\"][\"%s\"][\"%s\"]",
                         r ? "/api/b" : "/api/a", wn[w], qs[k].key);
                exprs[e] = texts[e];
            }
    jnums(body, NE, exprs, got);
    for (int r = 0, e = 0; r < 2; r++)
        for (int w = 0; w < 3; w++)
            for (int k = 0; k < NQ; k++, e++) {
                const int64_t *v = r ? b : a;
                double g = got[e] * 1e6, want = (double)exact_q(v, N, qs[k].q);
                fprintf(stderr, "%s %s %s: %.0f ns, exact %.0f ns (%+.3f%%)\n", r ? "/api/b" : "/api/a",
                        wn[w], qs[k].key, g, want, 100 * (g - want) / want);
                if (k == NQ - 1)
                    ASSERT_NEAR(g, want, 1); /* the maximum is exact */
                else
                    ASSERT_LE(fabs(g - want) / want, 1.0 / 128 + 1e-9);
            }
    free(body);
    body = get(port, "/debug/requests");
    ASSERT_STR_CONTAINS(body, "/api/a");
    ASSERT_STR_CONTAINS(body, "POST");
    free(body);
    ASSERT_OK(introspect_stop());
}

TEST(status_classes_and_error_ratio)
{
    int port = start_ephemeral();
    for (int i = 0; i < 100; i++)
        ASSERT_OK(introspect_request_observe("/s", NULL, i < 70 ? 200 : i < 80 ? 302 : i < 95 ? 404 : 503,
                                             1000000));
    char *body = get(port, "/debug/requests?format=json");
    static const char *const ex[] = {
        "d[\"routes\"][0][\"windows\"][\"1m\"][\"2xx\"]", "d[\"routes\"][0][\"windows\"][\"5m\"][\"3xx\"]",
        "d[\"routes\"][0][\"windows\"][\"1h\"][\"4xx\"]", "d[\"routes\"][0][\"windows\"][\"1m\"][\"5xx\"]",
        "d[\"routes\"][0][\"windows\"][\"1m\"][\"error_ratio\"]"};
    double v[5];
    jnums(body, 5, ex, v);
    ASSERT_EQ(v[0], 70);
    ASSERT_EQ(v[1], 10);
    ASSERT_EQ(v[2], 15);
    ASSERT_EQ(v[3], 5);
    ASSERT_NEAR(v[4], 0.05, 1e-9);
    ASSERT_EQ(jnum(body, "d[\"routes\"][0][\"total\"]"), 100);
    free(body);
    body = get(port, "/debug/vars");
    ASSERT_EQ(jnum(body, "d[\"requests\"][\"routes\"][0][\"windows\"][\"1m\"][\"count\"]"), 100);
    free(body);
    ASSERT_OK(introspect_stop());
}

TEST(routes_past_the_cap_fold_into_other)
{
    setenv("INTROSPECT_MAX_ROUTES", "4", 1);
    int port = start_ephemeral();
    char route[32];
    for (int i = 0; i < 10; i++) {
        snprintf(route, sizeof route, "/r%d", i);
        for (int k = 0; k < 3; k++)
            ASSERT_OK(introspect_request_observe(route, "GET", 200, 1000));
    }
    char *body = get(port, "/debug/requests?format=json");
    ASSERT_EQ(jnum(body, "len(d[\"routes\"])"), 5);
    ASSERT_EQ(jnum(body, "d[\"over_cap\"]"), 18);
    ASSERT_EQ(jnum(body, "[x for x in d[\"routes\"] if x[\"route\"]==\"other\"][0][\"total\"]"), 18);
    free(body);
    ASSERT_OK(introspect_stop());
}

TEST(request_is_a_task_and_labels_its_thread)
{
    int port = start_ephemeral();
    ASSERT_OK(introspect_labels_push("tenant", "acme"));
    uint32_t before = ix_labels_current();
    introspect_request r;
    ASSERT_OK(introspect_request_begin(&r, "/api/slow", "GET", 5000000000LL));
    const struct ix_labelset *ls = ix_labelset_get(ix_labels_current());
    ASSERT(ls != NULL);
    ASSERT_EQ(ls->n, 2);
    ASSERT_STR_EQ(ls->keys[0], "route");
    ASSERT_STR_EQ(ls->vals[0], "/api/slow");
    ASSERT_STR_EQ(ls->keys[1], "tenant");
    ASSERT_STR_EQ(ls->vals[1], "acme");
    char *body = get(port, "/debug/pprof/tasks?format=json");
    ASSERT_STR_CONTAINS(body, "\"/api/slow\"");
    ASSERT_STR_CONTAINS(body, "\"request\"");
    ASSERT(strstr(body, "\"deadline\"") || strstr(body, "deadline"));
    free(body);
    ASSERT_OK(introspect_request_end(&r, 200));
    ASSERT_EQ(introspect_request_end(&r, 200), INTROSPECT_EINVAL);
    ASSERT_EQ(ix_labels_current(), before);
    ASSERT_OK(introspect_labels_pop());
    ASSERT_EQ(ix_labels_current(), 0);
    ASSERT_EQ(introspect_labels_pop(), INTROSPECT_EINVAL);
    /* the change log answers for this thread at a time before the request */
    ASSERT_OK(introspect_stop());
}

TEST(metrics_are_valid_prometheus_histograms)
{
    setenv("INTROSPECT_SLO", "/m*:latency<5ms@99;/m1:avail@99.9", 1);
    int port = start_ephemeral();
    for (int i = 0; i < 50; i++) {
        ASSERT_OK(introspect_request_observe("/m1", "GET", i % 10 ? 200 : 500, 1000000 * (i % 7)));
        ASSERT_OK(introspect_request_observe("/m2", NULL, 200, 30000000));
    }
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_STR_CONTAINS(r.body, "# TYPE introspect_request_duration_seconds histogram");
    ASSERT_STR_CONTAINS(r.body, "introspect_request_duration_seconds_bucket{route=\"/m1\",method=\"GET\",le=\"+Inf\"} 50");
    ASSERT_STR_CONTAINS(r.body, "introspect_requests_total{route=\"/m1\",method=\"GET\",code=\"5xx\"} 5");
    ASSERT_STR_CONTAINS(r.body, "introspect_slo_burn_rate{slo=\"/m1:avail@99.9\",window=\"5m\"}");
    const char *file = write_temp("metrics", r.body, r.body_len);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", file);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0 || strlen(out) > 0)
        fprintf(stderr, "promtool said (rc=%d):\n%s\n", rc, out);
    ASSERT_EQ(rc, 0);
    free(out);
    unlink(file);
    http_reply_free(&r);
    char *body = get(port, "/debug/slo?format=json");
    /* /m2 at 30 ms all breach "below 5 ms"; of /m1 (0..6 ms), the 5 and 6 ms ones (14) */
    ASSERT_EQ(jnum(body, "[s for s in d[\"slos\"] if s[\"kind\"]==\"latency\"][0][\"routes\"]"), 2);
    ASSERT_EQ(jnum(body, "[s for s in d[\"slos\"] if s[\"kind\"]==\"latency\"][0][\"windows\"][\"5m\"][\"bad\"]"), 64);
    ASSERT_EQ(jnum(body, "[s for s in d[\"slos\"] if s[\"kind\"]==\"availability\"][0][\"windows\"][\"1h\"][\"bad\"]"), 5);
    free(body);
    ASSERT_OK(introspect_stop());
}

TEST(bad_slo_specs_are_refused_with_a_reason)
{
    ASSERT_EQ(introspect_slo_add("/x:latency<fast@99"), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_slo_add("/x:avail@100"), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_slo_add("/x:speed@99"), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_slo_add("nothing"), INTROSPECT_EINVAL);
    setenv("INTROSPECT_SLO", "/x:avail", 1);
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    ASSERT_EQ(introspect_start(&c), INTROSPECT_EINVAL);
    ASSERT_STR_CONTAINS(introspect_last_error(), "INTROSPECT_SLO");
}

static _Atomic int g_interning;
/* Interns new label sets without pause: forks below land while it holds
 * the intern lock now and then. */
static void *intern_storm(void *arg)
{
    (void)arg;
    char v[32];
    for (unsigned i = 0; atomic_load(&g_interning); i++) {
        snprintf(v, sizeof v, "/storm/%u", i % 512);
        ix_labels_with(0, "route", v);
    }
    return NULL;
}

/* A forked child's one thread keeps its labels under its new tid (the perf
 * ring engine finds a sample's labels by tid), and the child can intern new
 * sets even when the fork caught another thread inside the intern lock. */
TEST(labels_survive_fork_under_the_childs_tid)
{
    uint32_t a = ix_labels_with(0, "route", "/forked");
    ix_labels_switch(a, 0);
    atomic_store(&g_interning, 1);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, intern_storm, NULL), 0);
    for (int k = 0; k < 50; k++) {
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            pid_t tid = (pid_t)syscall(SYS_gettid);
            int ok = ix_labels_current() == a && ix_labels_at(tid, ix_mono_ns()) == a;
            uint32_t b = ix_labels_with(a, "tenant", "child"); /* hangs if the lock came locked */
            ix_labels_switch(b, 0);
            ok = ok && b != 0 && ix_labels_at(tid, ix_mono_ns()) == b;
            _exit(ok ? 0 : 3);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
    }
    atomic_store(&g_interning, 0);
    pthread_join(th, NULL);
    ix_labels_switch(0, 0);
}

TEST(label_change_log_answers_by_time)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    uint32_t a = ix_labels_with(0, "route", "/a"), b = ix_labels_with(a, "tenant", "t1");
    ASSERT(a != 0 && b != a);
    ASSERT_EQ(ix_labels_with(a, "route", "/a"), a); /* interned: same set, same id */
    ASSERT_EQ(ix_labels_at(tid, 1000), 0);          /* no log yet: no labels */
    ix_labels_switch(a, 1000000);
    ix_labels_switch(b, 2000000);
    ix_labels_switch(0, 3000000);
    ASSERT_EQ(ix_labels_at(tid, 999999), 0);
    ASSERT_EQ(ix_labels_at(tid, 1500000), a);
    ASSERT_EQ(ix_labels_at(tid, 2000000), b);
    ASSERT_EQ(ix_labels_at(tid, 2999999), b);
    ASSERT_EQ(ix_labels_at(tid, 5000000), 0);
    ASSERT_EQ(ix_labels_at(tid + 100000, 1500000), 0); /* another thread: no log, no labels */
    /* a reader that lags more than the log holds gets "unknown", never a wrong set */
    for (int i = 0; i < 3000; i++)
        ix_labels_switch(i & 1 ? a : b, 10000000 + i);
    ASSERT_EQ(ix_labels_at(tid, 1500000), IX_LABELS_UNKNOWN);
    ASSERT_EQ(ix_labels_at(tid, 10000000 + 2999), a);
    struct ix_labels_stats st;
    ix_labels_stats(&st);
    ASSERT_GE(st.unknown, 1);
    /* the public stack */
    ASSERT_OK(introspect_labels_clear());
    ASSERT_OK(introspect_labels_push("job", "reindex"));
    ASSERT_OK(introspect_labels_set("tenant", "t2"));
    const struct ix_labelset *ls = ix_labelset_get(ix_labels_current());
    ASSERT_EQ(ls->n, 2);
    ASSERT_STR_EQ(ls->keys[0], "job");
    ASSERT_STR_EQ(ls->keys[1], "tenant");
    ASSERT_OK(introspect_labels_set("tenant", NULL));
    ASSERT_EQ(ix_labelset_get(ix_labels_current())->n, 1);
    ASSERT_OK(introspect_labels_pop());
    ASSERT_EQ(ix_labels_current(), 0);
    ASSERT_EQ(introspect_labels_push("", "x"), INTROSPECT_EINVAL);
}

/* ---- SLO burn on an injected clock ---- */
static int64_t g_fake;
static int64_t fake_clock(void) { return g_fake; }

static int alert(int port, const char *which)
{
    char *body = get(port, "/debug/slo?format=json");
    char expr[128];
    snprintf(expr, sizeof expr, "d[\"slos\"][0][\"alerts\"][\"%s\"]", which);
    int v = jnum(body, expr) != 0;
    free(body);
    return v;
}

/* One minute of traffic (1000 requests spread over its six 10 s slots), a
 * fraction of them 5xx. */
static void minute(double bad)
{
    for (int s = 0; s < 6; s++) {
        int nbad = (int)(bad * 167 + 0.5);
        for (int i = 0; i < 167; i++)
            ASSERT_OK(introspect_request_observe("/pay", "POST", i < nbad ? 503 : 200, 1000000));
        g_fake += 10 * 1000000000LL;
    }
}

TEST(fast_burn_fires_within_five_minutes_and_clears)
{
    g_fake = 1000000 * 1000000000LL; /* an arbitrary, minute-aligned origin */
    ix_requests_set_clock(fake_clock);
    setenv("INTROSPECT_SLO", "/pay:avail@99.9", 1);
    int port = start_ephemeral();
    for (int m = 0; m < 60; m++)
        minute(0.0005); /* within budget: burn ~0.5 */
    ASSERT(!alert(port, "fast_burn"));
    ASSERT(!alert(port, "slow_burn"));
    /* a burst: half the requests fail */
    int fired_after = -1;
    for (int m = 1; m <= 5 && fired_after < 0; m++) {
        minute(0.5);
        if (alert(port, "fast_burn"))
            fired_after = m;
    }
    fprintf(stderr, "fast burn fired after %d minute(s) of the burst\n", fired_after);
    ASSERT_GE(fired_after, 1);
    ASSERT_LE(fired_after, 5);
    char *text = get(port, "/debug/slo");
    ASSERT_STR_CONTAINS(text, "fast_burn=FIRING");
    free(text);
    /* recovery: the 5 min window forgets the burst, the alert clears */
    int cleared_after = -1;
    for (int m = 1; m <= 15 && cleared_after < 0; m++) {
        minute(0);
        if (!alert(port, "fast_burn"))
            cleared_after = m;
    }
    fprintf(stderr, "fast burn cleared after %d minute(s) of recovery\n", cleared_after);
    ASSERT_GE(cleared_after, 1);
    ASSERT_LE(cleared_after, 6);
    ASSERT_OK(introspect_stop());
    ix_requests_set_clock(NULL);
}

/* The native form (requests.h): every log-linear bucket's midpoint lands
 * in the schema-8 bucket Prometheus defines for it, (2^((i-1)/256),
 * 2^(i/256)], bounds themselves included; no two midpoints share one. */
TEST(native_buckets_follow_prometheus_bounds_and_keep_order)
{
    for (int k = -2000; k <= 2000; k += 7) { /* exact bounds */
        double v = exp2((double)k / 256);
        ASSERT_EQ(ix_native_index(v, 8), k);
        ASSERT_EQ(ix_native_index(v * (1 + 1e-12), 8), k + 1);
    }
    int32_t prev = INT32_MIN;
    for (int b = 1; b < IX_REQ_NBUCKETS; b++) {
        double v = (double)ix_req_bucket_mid(b) / 1e9;
        int32_t i = ix_native_index(v, IX_REQ_NATIVE_SCHEMA);
        ASSERT(exp2((double)(i - 1) / 256) < v && v <= exp2((double)i / 256));
        ASSERT_GT(i, prev);
        prev = i;
    }
    ASSERT_EQ(ix_native_index(1.0, 0), 0);
    ASSERT_EQ(ix_native_index(1.5, 0), 1);
    ASSERT_EQ(ix_native_index(0.5, 0), -1);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(native_buckets_follow_prometheus_bounds_and_keep_order),
    TEST_ENTRY(percentiles_match_exact_within_stated_error),
    TEST_ENTRY(status_classes_and_error_ratio),
    TEST_ENTRY(routes_past_the_cap_fold_into_other),
    TEST_ENTRY(request_is_a_task_and_labels_its_thread),
    TEST_ENTRY(metrics_are_valid_prometheus_histograms),
    TEST_ENTRY(bad_slo_specs_are_refused_with_a_reason),
    TEST_ENTRY(fast_burn_fires_within_five_minutes_and_clears),
    TEST_ENTRY(label_change_log_answers_by_time),
    TEST_ENTRY(labels_survive_fork_under_the_childs_tid),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
