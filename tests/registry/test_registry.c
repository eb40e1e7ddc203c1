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
        ASSERT_OK(introspect_counter_add(c_hits, route, 1));
        ASSERT_OK(introspect_gauge_add(g_level, NULL, 0.5));
        ASSERT_OK(introspect_histogram_observe(h_lat, route, (double)(i % 4)));
    }
    return NULL;
}

static double value_of(const char *text, const char *series)
{
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s", series); /* a sample line, not the HELP text */
    const char *p = strstr(text, needle);
    if (!p)
        ix_test_fail(__FILE__, __LINE__, "no sample line \"%s\" in /metrics:\n%.2000s", series, text);
    return strtod(p + strlen(needle), NULL);
}

TEST(concurrent_updates_are_exact)
{
    int port = start_ephemeral();
    static const char *const lbl[] = {"route"};
    ASSERT_OK(introspect_counter_new("t_hits_total", "Hits.", lbl, 1, &c_hits));
    ASSERT_OK(introspect_gauge_new("t_level", "Level.", NULL, 0, &g_level));
    static const double b[] = {0.5, 1.5, 2.5};
    ASSERT_OK(introspect_histogram_new("t_latency_seconds", "Latency.", lbl, 1, b, 3, &h_lat));
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
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
    ASSERT_OK(introspect_stop());
}

TEST(invalid_names_and_values_are_refused)
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
    ASSERT_OK(introspect_gauge_new("t_level", "first", NULL, 0, &g));
    ASSERT_EQ(introspect_gauge_new("t_level", "again", NULL, 0, &g), INTROSPECT_EEXIST);
    ASSERT_EQ(introspect_counter_new("v_total", "x", lbl, 1, &c), 0);
    ASSERT_EQ(introspect_counter_add(c, NULL, 1), INTROSPECT_ELABELS);
    const char *v[1] = {"x"};
    ASSERT_EQ(introspect_counter_add(c, v, -1), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_counter_add(NULL, v, 1), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_gauge_set((introspect_gauge *)c, v, 1), INTROSPECT_ETYPE);
}

/* Each error code has its own text saying what went wrong (a phrase of it
 * is checked, so rewording stays free), and an unknown code says so. */
TEST(strerror_names_each_code)
{
    static const struct {
        int code;
        const char *phrase;
    } want[] = {
        {INTROSPECT_OK, "success"},
        {INTROSPECT_EINVAL, "invalid argument"},
        {INTROSPECT_ENOMEM, "out of memory"},
        {INTROSPECT_EADDR, "address could not be parsed"},
        {INTROSPECT_EADDRINUSE, "in use"},
        {INTROSPECT_EBIND, "bind"},
        {INTROSPECT_EALREADY, "already started"},
        {INTROSPECT_ENOTSTARTED, "not started"},
        {INTROSPECT_EEXIST, "already exists"},
        {INTROSPECT_ENAME, "invalid metric, label or variable name"},
        {INTROSPECT_ELABELS, "label values"},
        {INTROSPECT_ELIMIT, "limit"},
        {INTROSPECT_EBUSY, "busy"},
        {INTROSPECT_ESIGNAL, "signal"},
        {INTROSPECT_ESYS, "system call"},
        {INTROSPECT_ETOKEN, "token"},
        {INTROSPECT_ETYPE, "type"},
        {INTROSPECT_ELIBRARY, "library"},
        {1, "unknown"},
        {-1000, "unknown"},
    };
    size_t n = sizeof want / sizeof want[0];
    for (size_t i = 0; i < n; i++)
        ASSERT_STR_CONTAINS(introspect_strerror(want[i].code), want[i].phrase);
    for (size_t i = 0; i < n - 2; i++) /* the known codes' texts are distinct */
        for (size_t k = 0; k < i; k++)
            ASSERT_NE(strcmp(introspect_strerror(want[i].code), introspect_strerror(want[k].code)), 0);
}

TEST(awkward_help_and_labels_are_escaped)
{
    int port = start_ephemeral();
    static const char *const lbl[] = {"path"};
    introspect_gauge *g;
    ASSERT_OK(introspect_gauge_new("t_awkward", "Line one\nback\\slash \"quoted\"", lbl, 1, &g));
    const char *v[1] = {"a\"b\\c\nd"};
    ASSERT_OK(introspect_gauge_set(g, v, 1));
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
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
    ASSERT_STR_EQ(out, ""); /* no warnings either */
    free(out);
    unlink(file);
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(concurrent_updates_are_exact),
    TEST_ENTRY(invalid_names_and_values_are_refused),
    TEST_ENTRY(strerror_names_each_code),
    TEST_ENTRY(awkward_help_and_labels_are_escaped),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
