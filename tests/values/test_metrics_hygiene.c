/* /metrics as a Prometheus server sees it:
 *  - the same series at every scrape: a task state whose count drops to 0
 *    stays as a 0 (introspect_tasks_by_state), and the set of series of the
 *    module's own families (introspect_*, process_*) is identical across
 *    scrapes taken before and after tasks come and go;
 *  - gzip when Accept-Encoding asks (curl --compressed decodes it; the
 *    decoded body passes promtool), plain otherwise, /debug/vars too;
 *  - Accept negotiation as client_golang's: OpenMetrics 0.0.1 and 1.0.0 get
 *    their own content type, q-values order the choice, unknown versions
 *    fall back to the 0.0.4 text. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "introspect.h"

static int port;

/* The sorted, de-duplicated series identities (name{labels}) of the module's
 * families in a 0.0.4 body, one per line. */
static char *series_of(const char *body)
{
    const char *path = write_temp("metrics", body, strlen(body));
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "grep -E '^(introspect|process)_' %s | sed -E 's/ [^ ]+$//' | sort -u", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    return out;
}

static char *scrape(void)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_EQ(r.status, 200);
    char *s = series_of(r.body);
    http_reply_free(&r);
    return s;
}

TEST(task_state_series_stay_at_zero_and_series_set_is_stable)
{
    port = start_ephemeral();
    introspect_task *t;
    ASSERT_EQ(introspect_task_begin("http", "/users", 0, &t), 0);
    ASSERT_EQ(introspect_task_set_state(t, "handling"), 0);
    char *before = scrape();
    ASSERT_STR_CONTAINS(before, "introspect_tasks_by_state{kind=\"http\",state=\"handling\"}");
    ASSERT_EQ(introspect_task_end(t), 0);
    char *after = scrape();
    if (strcmp(before, after)) {
        ix_test_fail(__FILE__, __LINE__, "series changed between scrapes:\n--- before\n%s\n--- after\n%s",
                     before, after);
    }
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_by_state{kind=\"http\",state=\"handling\"} 0\n");
    http_reply_free(&r);
    free(before);
    free(after);
    ASSERT_OK(introspect_stop());
}

static void gzip_when_asked(const char *target, const char *check)
{
    struct http_reply r;
    ASSERT_EQ(http_request(port, "GET", target, "Accept-Encoding: gzip\r\n", NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Encoding"), "gzip");
    ASSERT_STR_CONTAINS(http_header(&r, "Vary"), "Accept-Encoding");
    ASSERT(r.body_len > 2 && (unsigned char)r.body[0] == 0x1f && (unsigned char)r.body[1] == 0x8b);
    size_t zlen = r.body_len;
    http_reply_free(&r);
    /* q=0 refuses gzip; no header gets the plain body. */
    ASSERT_EQ(http_request(port, "GET", target, "Accept-Encoding: gzip;q=0, identity\r\n", NULL, 0,
                           &r), 0);
    ASSERT(http_header(&r, "Content-Encoding") == NULL || !strstr(http_header(&r, "Content-Encoding"), "gzip"));
    size_t plain = r.body_len;
    http_reply_free(&r);
    printf("%s: %zu bytes plain, %zu gzipped\n", target, plain, zlen);
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "curl -fsS --compressed -D - -o /tmp/ix_hygiene_body.$$ 'http://127.0.0.1:%d%s' | "
             "grep -qi '^content-encoding: gzip' && %s /tmp/ix_hygiene_body.$$; rc=$?; "
             "rm -f /tmp/ix_hygiene_body.$$; exit $rc",
             port, target, check);
    int rc = run_cmd(cmd, &out);
    if (rc)
        ix_test_fail(__FILE__, __LINE__, "%s: curl --compressed or the check failed: %s", target,
                     out ? out : "");
    free(out);
}

static void negotiates(const char *accept, const char *want_type, int om)
{
    char hdr[512];
    snprintf(hdr, sizeof hdr, "Accept: %s\r\n", accept);
    struct http_reply r;
    ASSERT_EQ(http_request(port, "GET", "/metrics", hdr, NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 200);
    const char *ct = http_header(&r, "Content-Type");
    if (!ct || strcmp(ct, want_type))
        ix_test_fail(__FILE__, __LINE__, "Accept: %s: got %s, want %s", accept, ct ? ct : "(none)",
                     want_type);
    size_t n = strlen(r.body);
    ASSERT_EQ(n >= 6 && strcmp(r.body + n - 6, "# EOF\n") == 0, om);
    http_reply_free(&r);
}

TEST(metrics_gzipped_when_asked)
{
    port = start_ephemeral();
    gzip_when_asked("/metrics", "promtool check metrics <");
    ASSERT_OK(introspect_stop());
}

TEST(vars_gzipped_when_asked)
{
    port = start_ephemeral();
    gzip_when_asked("/debug/vars", "python3 -c 'import json,sys; json.load(open(sys.argv[1]))'");
    ASSERT_OK(introspect_stop());
}

static const char *const t004 = "text/plain; version=0.0.4; charset=utf-8";
static const char *const om1 = "application/openmetrics-text; version=1.0.0; charset=utf-8";
static const char *const om001 = "application/openmetrics-text; version=0.0.1; charset=utf-8";

TEST(prometheus_scrape_header_gets_openmetrics_1_0_0)
{
    port = start_ephemeral();
    /* Prometheus 2.42's scrape header */
    negotiates("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", om1, 1);
    ASSERT_OK(introspect_stop());
}

TEST(openmetrics_version_negotiated_exactly)
{
    port = start_ephemeral();
    negotiates("application/openmetrics-text; version=0.0.1", om001, 1);
    negotiates("application/openmetrics-text; version=1.0.0", om1, 1);
    negotiates("application/openmetrics-text", om001, 1);
    negotiates("Application/OpenMetrics-Text; Version=\"1.0.0\"", om1, 1);
    ASSERT_OK(introspect_stop());
}

TEST(q_values_and_unknown_versions_fall_back_to_text_0_0_4)
{
    port = start_ephemeral();
    negotiates("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;version=0.0.4", t004, 0);
    negotiates("application/openmetrics-text;version=2.0.0", t004, 0);
    negotiates("application/openmetrics-text;version=1.0.0;q=0, text/plain;q=0.1", t004, 0);
    negotiates("text/plain", t004, 0);
    negotiates("*/*", t004, 0);
    negotiates("", t004, 0);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(task_state_series_stay_at_zero_and_series_set_is_stable),
    TEST_ENTRY(metrics_gzipped_when_asked),
    TEST_ENTRY(vars_gzipped_when_asked),
    TEST_ENTRY(prometheus_scrape_header_gets_openmetrics_1_0_0),
    TEST_ENTRY(openmetrics_version_negotiated_exactly),
    TEST_ENTRY(q_values_and_unknown_versions_fall_back_to_text_0_0_4),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
