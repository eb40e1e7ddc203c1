/* /debug/pprof/profile refusals and engine choice: 400s for bad queries,
 * 409 for a concurrent profile and for a SIGPROF owned by someone else,
 * forced engines, the previous signal disposition restored afterwards. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

static int port;

static void start(void)
{
    port = start_ephemeral();
    workload_start(2);
}

static void finish(void)
{
    workload_stop();
    ASSERT_OK(introspect_stop());
}

static void expect_status(const char *target, int status, const char *needle)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, target, &r), 0);
    if (r.status != status)
        fprintf(stderr, "%s -> %d %s\n", target, r.status, r.body);
    ASSERT_EQ(r.status, status);
    if (needle)
        ASSERT_STR_CONTAINS(r.body, needle);
    if (status != 200)
        ASSERT_STR_CONTAINS(http_header(&r, "x-go-pprof"), "1");
    http_reply_free(&r);
}

TEST(bad_queries_are_400)
{
    start();
    expect_status("/debug/pprof/profile?seconds=abc", 400, "seconds");
    expect_status("/debug/pprof/profile?seconds=301", 400, "exceeds server's maximum of 300");
    expect_status("/debug/pprof/profile?hz=0", 400, "hz");
    expect_status("/debug/pprof/profile?hz=1001", 400, "exceeds server's maximum of 1000");
    expect_status("/debug/pprof/profile?hz=1x", 400, "hz");
    expect_status("/debug/pprof/profile?seconds=1&format=xml", 400, "format");
    finish();
}

static void *long_profile(void *arg)
{
    (void)arg;
    expect_status("/debug/pprof/profile?seconds=2", 200, NULL);
    return NULL;
}

/* Go's rule: seconds <= 0 means the default 30 s. The profile it starts is
 * seen from a second request (409, about 30 s left), then ended by closing
 * the connection (the capture stops when its client leaves). */
static void seconds_zero_is_default(const char *seconds)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char req[128];
    int n = snprintf(req, sizeof req,
                     "GET /debug/pprof/profile?seconds=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                     seconds);
    ASSERT(write(fd, req, (size_t)n) == n);
    usleep(500000); /* as concurrent_is_409: the first profile has started */
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/profile?seconds=1", &r), 0);
    ASSERT_EQ(r.status, 409);
    const char *ra = http_header(&r, "retry-after");
    if (!ra || atoi(ra) < 20 || atoi(ra) > 30)
        fprintf(stderr, "seconds=%s: Retry-After %s\n", seconds, ra ? ra : "(none)");
    ASSERT(ra && atoi(ra) >= 20 && atoi(ra) <= 30);
    http_reply_free(&r);
    close(fd);
    for (int i = 0; i < 200; i++) { /* the capture notices and ends */
        ASSERT_EQ(http_get(port, "/debug/pprof/profile?seconds=1", &r), 0);
        int st = r.status;
        http_reply_free(&r);
        if (st == 200)
            return;
        usleep(100000);
    }
    ASSERT(!"the seconds=0 profile did not end when its client left");
}

TEST(seconds_zero_profiles_for_the_default_30s)
{
    start();
    seconds_zero_is_default("0");
    finish();
}

TEST(negative_seconds_profiles_for_the_default_30s)
{
    start();
    seconds_zero_is_default("-5");
    finish();
}

TEST(concurrent_profile_is_409_with_retry_after)
{
    start();
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, long_profile, NULL), 0);
    usleep(500000);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/profile?seconds=1", &r), 0);
    ASSERT_EQ(r.status, 409);
    ASSERT_STR_CONTAINS(r.body, "already in use");
    const char *ra = http_header(&r, "retry-after");
    ASSERT(ra);
    ASSERT_GE(atoi(ra), 1);
    ASSERT_LE(atoi(ra), 2);
    http_reply_free(&r);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    finish();
}

/* The profile (1 s) names the engine in its comments. */
static void engine_is(const char *engine)
{
    char target[] = "/debug/pprof/profile?seconds=1&hz=200", file[64];
    snprintf(file, sizeof file, "/tmp/ix_test_cpu_errors.%d.pb.gz", (int)getpid());
    ASSERT_EQ(fetch_to_file(port, target, file), 200);
    char cmd[256], *out = NULL;
    snprintf(cmd, sizeof cmd, "gzip -dc %s | grep -ac 'engine: %s '", file, engine);
    int rc = run_cmd(cmd, &out);
    if (rc)
        fprintf(stderr, "expected engine %s\n", engine);
    ASSERT_EQ(rc, 0);
    free(out);
    snprintf(cmd, sizeof cmd, "go tool pprof -top %s 2>&1", file);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "cpu_heavy_three");
    free(out);
    unlink(file);
}

static void restart(const char *engine, int sig)
{
    introspect_stop();
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = engine;
    if (sig)
        cfg.cpu_signal = sig;
    ASSERT_EQ(introspect_start(&cfg), 0);
    port = introspect_port();
}

TEST(forced_perf_engines_or_500_without_perf)
{
    start();
    if (perf_available()) {
        restart("perf", 0);
        engine_is("perf");
        restart("perf-signal", 0);
        engine_is("perf-signal");
    } else {
        restart("perf", 0);
        expect_status("/debug/pprof/profile?seconds=1", 500, "cannot run here");
    }
    finish();
}

TEST(forced_timer_engine)
{
    start();
    restart("timer", 0);
    engine_is("timer");
    finish();
}

TEST(forced_itimer_engine)
{
    start();
    restart("itimer", 0);
    engine_is("itimer");
    finish();
}

TEST(itimer_on_other_signal_is_500)
{
    start();
    restart("itimer", SIGRTMIN + 3); /* setitimer can only send SIGPROF */
    expect_status("/debug/pprof/profile?seconds=1", 500, "only send SIGPROF");
    finish();
}

TEST(environment_engine_wins_over_config)
{
    start();
    setenv("INTROSPECT_CPU_ENGINE", "timer", 1);
    restart("perf", 0);
    engine_is("timer");
    unsetenv("INTROSPECT_CPU_ENGINE");
    finish();
}

static void foreign_profiler(int sig, siginfo_t *si, void *uc) { (void)sig, (void)si, (void)uc; }

TEST(sigprof_owned_elsewhere_is_409_or_perf_beside_it)
{
    start();
    struct sigaction sa, cur;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = foreign_profiler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPROF, &sa, NULL);
    if (perf_available()) {
        /* The perf engine's rings need no signal: it profiles beside the
         * other handler (gperftools' libprofiler, say) and leaves it alone;
         * the signalled engines refuse. */
        restart("auto", 0);
        engine_is("perf");
        expect_status("/debug/pprof/profile?seconds=1&debug=1", 200, "perf rings only");
        restart("perf-signal", 0);
        expect_status("/debug/pprof/profile?seconds=1", 409, "already has a handler");
    }
    restart("timer", 0);
    expect_status("/debug/pprof/profile?seconds=1", 409, "already has a handler");
    sigaction(SIGPROF, NULL, &cur);
    ASSERT(cur.sa_sigaction == foreign_profiler);
    /* Another signal works, and leaves both dispositions as they were. */
    restart("auto", SIGRTMIN + 2);
    engine_is(perf_available() ? "perf" : "timer");
    sigaction(SIGPROF, NULL, &cur);
    ASSERT(cur.sa_sigaction == foreign_profiler);
    sigaction(SIGRTMIN + 2, NULL, &cur);
    ASSERT(cur.sa_handler == SIG_DFL);
    signal(SIGPROF, SIG_DFL);
    finish();
}

TEST(previous_disposition_restored)
{
    start();
    restart("timer", 0);
    signal(SIGPROF, SIG_IGN);
    engine_is("timer");
    struct sigaction cur;
    sigaction(SIGPROF, NULL, &cur);
    ASSERT(cur.sa_handler == SIG_IGN);
    signal(SIGPROF, SIG_DFL);
    finish();
}

static const struct ix_test tests[] = {
    TEST_ENTRY(bad_queries_are_400),
    TEST_ENTRY(seconds_zero_profiles_for_the_default_30s),
    TEST_ENTRY(negative_seconds_profiles_for_the_default_30s),
    TEST_ENTRY(concurrent_profile_is_409_with_retry_after),
    TEST_ENTRY(forced_perf_engines_or_500_without_perf),
    TEST_ENTRY(forced_timer_engine),
    TEST_ENTRY(forced_itimer_engine),
    TEST_ENTRY(itimer_on_other_signal_is_500),
    TEST_ENTRY(environment_engine_wins_over_config),
    TEST_ENTRY(sigprof_owned_elsewhere_is_409_or_perf_beside_it),
    TEST_ENTRY(previous_disposition_restored),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
