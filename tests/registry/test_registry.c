/* Registry: exact totals under concurrency, validation, escaping. */
#include <introspect.h>
#include <pthread.h>

#include "harness.h"

#define THREADS 8
#define ITERS 20000

static introspect_counter *c_hits;
static introspect_gauge *g_level;
static introspect_histogram *h_lat;

static void *hammer(void *arg)
{
    long id = (long)arg;
    const char *route[1] = {id % 2 ? "odd" : "even"};
    for (int i = 0; i < ITERS; i++) {
        ASSERT(introspect_counter_add(c_hits, route, 1) == 0);
        ASSERT(introspect_gauge_add(g_level, NULL, 0.5) == 0);
        ASSERT(introspect_histogram_observe(h_lat, route, (double)(i % 4)) == 0);
    }
    return NULL;
}

static double value_of(const char *text, const char *series)
{
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s", series); /* a sample line, not the HELP text */
    const char *p = strstr(text, needle);
    ASSERT(p);
    return strtod(p + strlen(needle), NULL);
}

static void test_concurrent_exact(int port)
{
    static const char *const lbl[] = {"route"};
    ASSERT(introspect_counter_new("t_hits_total", "Hits.", lbl, 1, &c_hits) == 0);
    ASSERT(introspect_gauge_new("t_level", "Level.", NULL, 0, &g_level) == 0);
    static const double b[] = {0.5, 1.5, 2.5};
    ASSERT(introspect_histogram_new("t_latency_seconds", "Latency.", lbl, 1, b, 3, &h_lat) == 0);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(value_of(r.body, "t_hits_total{route=\"odd\"} "), THREADS / 2 * ITERS);
    ASSERT_EQ(value_of(r.body, "t_hits_total{route=\"even\"} "), THREADS / 2 * ITERS);
    ASSERT_EQ(value_of(r.body, "t_level "), THREADS * ITERS / 2);
    ASSERT_EQ(value_of(r.body, "t_latency_seconds_count{route=\"odd\"} "), THREADS / 2 * ITERS);
    ASSERT_EQ(value_of(r.body, "t_latency_seconds_bucket{route=\"odd\",le=\"0.5\"} "), THREADS / 2 * ITERS / 4);
    ASSERT_EQ(value_of(r.body, "t_latency_seconds_bucket{route=\"odd\",le=\"+Inf\"} "), THREADS / 2 * ITERS);
    /* sum of 0+1+2+3 per 4 observations */
    ASSERT_EQ(value_of(r.body, "t_latency_seconds_sum{route=\"odd\"} "), THREADS / 2 * ITERS / 4 * 6);
    http_reply_free(&r);
}

static void test_validation(void)
{
    introspect_counter *c;
    introspect_gauge *g;
    introspect_histogram *h;
    static const char *const lbl[] = {"a"};
    static const char *const dup[] = {"a", "a"};
    static const char *const le[] = {"le"};
    ASSERT_EQ(introspect_counter_new("no_suffix", "x", NULL, 0, &c), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_counter_new("9bad_total", "x", NULL, 0, &c), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_counter_new("bad-dash_total", "x", NULL, 0, &c), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_gauge_new("process_mine", "x", NULL, 0, &g), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_gauge_new("g_dup_labels", "x", dup, 2, &g), INTROSPECT_ENAME);
    ASSERT_EQ(introspect_histogram_new("h_le", "x", le, 1, NULL, 0, &h), INTROSPECT_ENAME);
    static const double unsorted[] = {1, 0.5};
    ASSERT_EQ(introspect_histogram_new("h_unsorted", "x", NULL, 0, unsorted, 2, &h), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_gauge_new("t_level", "again", NULL, 0, &g), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_counter_new("v_total", "x", lbl, 1, &c), 0);
    ASSERT_EQ(introspect_counter_add(c, NULL, 1), INTROSPECT_ELABELS);
    const char *v[1] = {"x"};
    ASSERT_EQ(introspect_counter_add(c, v, -1), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_counter_add(NULL, v, 1), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_gauge_set((introspect_gauge *)c, v, 1), INTROSPECT_ETYPE);
    ASSERT(strlen(introspect_strerror(INTROSPECT_ELABELS)) > 0);
}

static void test_escaping(int port)
{
    static const char *const lbl[] = {"path"};
    introspect_gauge *g;
    ASSERT(introspect_gauge_new("t_awkward", "Line one\nback\\slash \"quoted\"", lbl, 1, &g) == 0);
    const char *v[1] = {"a\"b\\c\nd"};
    ASSERT(introspect_gauge_set(g, v, 1) == 0);
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_STR_CONTAINS(r.body, "# HELP t_awkward Line one\\nback\\\\slash \"quoted\"\n");
    ASSERT_STR_CONTAINS(r.body, "t_awkward{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    const char *file = write_temp("metrics", r.body, r.body_len);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", file);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0 || strlen(out) > 0)
        fprintf(stderr, "promtool said (rc=%d):\n%s\n", rc, out);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(strlen(out), 0); /* no warnings either */
    free(out);
    unlink(file);
    http_reply_free(&r);
}

int main(void)
{
    int port = start_ephemeral();
    test_concurrent_exact(port);
    test_validation();
    test_escaping(port);
    ASSERT(introspect_stop() == 0);
    printf("ok\n");
    return 0;
}
