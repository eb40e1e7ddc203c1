/* The request latency histograms as the real Prometheus sees them: Debian's
 * prometheus (2.42, --enable-feature=native-histograms, which makes it ask
 * for the protobuf exposition) scrapes the module every second on loopback,
 * and its query API must answer histogram_count and histogram_quantile on
 * the native histogram introspect_request_duration_seconds.
 *
 * Latencies are fed with introspect_request_observe (exact, known values):
 * batch 1 (log-normal around 2 ms), scraped, then batch 2 (around 6 ms).
 *  - histogram_count over everything equals the requests observed;
 *  - histogram_quantile(0.95, <native>) over everything is within 0.3% of
 *    the module's own P95 (its 1 h window holds both batches): the native
 *    bucket (schema 8, 0.27% wide) holding the module's bucket midpoint;
 *  - histogram_quantile(0.95, increase(<native>[1h])) is the P95 of batch 2
 *    alone, within 1.1% of the exact value (0.79% log-linear bucket + 0.27%
 *    native bucket): increase() subtracts the first scrape, batch 1.
 * No wall-clock limit: Prometheus is polled for up to 200 s to start and
 * scrape (a bound against a hang, not a speed claim). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"

#define N1 3000
#define N2 2000

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static double uniform(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
}
/* Log-normal latency around median_ns (sigma 0.5). */
static int64_t latency(double median_ns)
{
    double z = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
    return (int64_t)(median_ns * exp(0.5 * z));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
static double exact_p95(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
    size_t rank = (size_t)ceil(0.95 * (double)n);
    return (double)v[rank - 1];
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &l))
        ix_test_fail(__FILE__, __LINE__, "no free port");
    close(s);
    return ntohs(a.sin_port);
}

/* Percent-encode a PromQL query for a URL. */
static void urlenc(char *out, size_t n, const char *q)
{
    size_t k = 0;
    for (; *q && k + 4 < n; q++) {
        unsigned char c = (unsigned char)*q;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-')
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, n - k, "%%%02X", c);
    }
    out[k] = '\0';
}

/* The first value of an instant query's vector, or NAN (no result yet). */
static double query(int pport, const char *promql)
{
    char enc[1024], target[1200];
    urlenc(enc, sizeof enc, promql);
    snprintf(target, sizeof target, "/api/v1/query?query=%s", enc);
    struct http_reply r;
    if (http_get(pport, target, &r) || r.status != 200) {
        if (r.body)
            http_reply_free(&r);
        return NAN;
    }
    double v = NAN;
    const char *p = strstr(r.body, "\"value\":[");
    if (p && (p = strchr(p, ',')) && (p = strchr(p, '"')))
        v = strtod(p + 1, NULL);
    http_reply_free(&r);
    return v;
}

/* Poll until the query answers want (or any value when want < 0); bounded. */
static double wait_for(int pport, const char *promql, double want, pid_t prom)
{
    for (int i = 0; i < 400; i++) {
        double v = query(pport, promql);
        if (!isnan(v) && (want < 0 || v == want))
            return v;
        if (waitpid(prom, NULL, WNOHANG) == prom)
            ix_test_fail(__FILE__, __LINE__, "prometheus exited");
        usleep(500000);
    }
    ix_test_fail(__FILE__, __LINE__, "prometheus never answered %s == %g", promql, want);
}

static pid_t g_prom;
static char g_dir[64];
static void stop_prometheus(void)
{
    if (g_prom > 0) {
        kill(g_prom, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(g_prom, &st, WNOHANG) == 0; i++)
            usleep(100000);
        kill(g_prom, SIGKILL);
        waitpid(g_prom, &st, 0);
        g_prom = 0;
    }
    if (g_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
        if (system(cmd)) {
        }
    }
}

static pid_t start_prometheus(int target_port, int pport)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ix_prom_XXXXXX");
    if (!mkdtemp(g_dir))
        ix_test_fail(__FILE__, __LINE__, "mkdtemp");
    char path[128], yml[512];
    snprintf(path, sizeof path, "%s/prometheus.yml", g_dir);
    snprintf(yml, sizeof yml,
             "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
             "scrape_configs:\n"
             "  - job_name: introspect\n"
             "    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
             target_port);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(yml, f);
    fclose(f);
    char cfg[160], data[160], listen[64], log[160];
    snprintf(cfg, sizeof cfg, "--config.file=%s", path);
    snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", g_dir);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", pport);
    snprintf(log, sizeof log, "%s/prom.log", g_dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("prometheus", "prometheus", cfg, data, listen, "--enable-feature=native-histograms",
               (char *)NULL);
        _exit(127);
    }
    g_prom = pid;
    atexit(stop_prometheus);
    return pid;
}

TEST(native_histogram_quantiles_in_real_prometheus_match_the_modules)
{
    if (run_cmd("command -v prometheus >/dev/null", NULL) != 0)
        SKIP("prometheus is not installed (Debian package prometheus)");
    int port = start_ephemeral();
    static int64_t b1[N1], b2[N2], all[N1 + N2];
    for (int i = 0; i < N1; i++) {
        b1[i] = latency(2e6);
        ASSERT_OK(introspect_request_observe("/x", "GET", 200, b1[i]));
    }
    /* The exposition Prometheus will ask for (its native-histograms Accept). */
    struct http_reply r;
    ASSERT_EQ(http_request(port, "GET", "/metrics",
                           "Accept: application/vnd.google.protobuf;"
                           "proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,"
                           "text/plain;version=0.0.4;q=0.3\r\n",
                           NULL, 0, &r),
              0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "content-type"), "application/vnd.google.protobuf");
    ASSERT_STR_CONTAINS(http_header(&r, "content-type"), "encoding=delimited");
    http_reply_free(&r);

    int pport = free_port();
    pid_t prom = start_prometheus(port, pport);
    const char *m = "introspect_request_duration_seconds{route=\"/x\"}";
    char q[512];
    snprintf(q, sizeof q, "histogram_count(%s)", m);
    double c1 = wait_for(pport, q, N1, prom);
    printf("Prometheus: histogram_count = %.0f after batch 1\n", c1);
    for (int i = 0; i < N2; i++) {
        b2[i] = latency(6e6);
        ASSERT_OK(introspect_request_observe("/x", "GET", 200, b2[i]));
    }
    wait_for(pport, q, N1 + N2, prom);

    /* Everything: against the module's own P95 (1 h window) and the exact one. */
    snprintf(q, sizeof q, "histogram_quantile(0.95, %s)", m);
    double prom_all = wait_for(pport, q, -1, prom) * 1e9;
    ASSERT_EQ(http_get(port, "/debug/requests?format=json", &r), 0);
    const char *f = write_temp("req_prom_json", r.body, r.body_len);
    http_reply_free(&r);
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json; d=json.load(open(\"%s\")); "
             "r=[x for x in d[\"routes\"] if x[\"route\"]==\"/x\"][0][\"windows\"][\"1h\"]; "
             "print(r[\"p95_ms\"], r[\"count\"])'",
             f);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    char *end;
    double own = strtod(out, &end) * 1e6;
    ASSERT_EQ((long long)strtod(end, NULL), N1 + N2);
    free(out);
    unlink(f);
    memcpy(all, b1, sizeof b1);
    memcpy(all + N1, b2, sizeof b2);
    double exact_all = exact_p95(all, N1 + N2);
    printf("P95 of all %d: Prometheus %.0f ns, module %.0f ns (%+.3f%%), exact %.0f ns (%+.3f%%)\n",
           N1 + N2, prom_all, own, 100 * (prom_all - own) / own, exact_all,
           100 * (prom_all - exact_all) / exact_all);
    ASSERT(fabs(prom_all - own) / own <= 0.003);
    ASSERT(fabs(prom_all - exact_all) / exact_all <= 0.011);

    /* Batch 2 alone, through increase() over the scrapes. */
    snprintf(q, sizeof q, "histogram_quantile(0.95, increase(%s[1h]))", m);
    double prom_b2 = wait_for(pport, q, -1, prom) * 1e9;
    double exact_b2 = exact_p95(b2, N2);
    printf("P95 of batch 2 (increase): Prometheus %.0f ns, exact %.0f ns (%+.3f%%)\n", prom_b2,
           exact_b2, 100 * (prom_b2 - exact_b2) / exact_b2);
    ASSERT(fabs(prom_b2 - exact_b2) / exact_b2 <= 0.011);
    stop_prometheus();
    ASSERT_OK(introspect_stop());
}

/* Only the whole protobuf media type selects it (as client_golang's
 * negotiation): without proto= or encoding=delimited, the text format. */
TEST(protobuf_exposition_only_when_asked_for_exactly)
{
    int port = start_ephemeral();
    ASSERT_OK(introspect_request_observe("/x", "GET", 200, 1000000));
    static const struct {
        const char *accept, *want;
    } cases[] = {
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited", "application/vnd.google.protobuf"},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", "text/plain"},
        {"application/vnd.google.protobuf;encoding=delimited", "text/plain"},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited;q=0.2,application/openmetrics-text;version=1.0.0",
         "application/openmetrics-text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, "Accept: %s\r\n", cases[i].accept);
        struct http_reply r;
        ASSERT_EQ(http_request(port, "GET", "/metrics", h, NULL, 0, &r), 0);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_CONTAINS(http_header(&r, "content-type"), cases[i].want);
        http_reply_free(&r);
    }
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(protobuf_exposition_only_when_asked_for_exactly),
    TEST_ENTRY(native_histogram_quantiles_in_real_prometheus_match_the_modules),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
