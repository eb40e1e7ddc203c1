/* /debug/pprof/profile refusals and engine choice: 400s for bad queries,
 * 409 for a concurrent profile and for a SIGPROF owned by someone else,
 * forced engines, the previous signal disposition restored afterwards. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

static int port;

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

static void bad_queries(void)
{
    expect_status("/debug/pprof/profile?seconds=abc", 400, "seconds");
    expect_status("/debug/pprof/profile?seconds=0", 400, "seconds");
    expect_status("/debug/pprof/profile?seconds=301", 400, "exceeds server's maximum of 300");
    expect_status("/debug/pprof/profile?hz=0", 400, "hz");
    expect_status("/debug/pprof/profile?hz=1001", 400, "exceeds server's maximum of 1000");
    expect_status("/debug/pprof/profile?hz=1x", 400, "hz");
    expect_status("/debug/pprof/profile?seconds=1&format=xml", 400, "format");
}

static void *long_profile(void *arg)
{
    (void)arg;
    expect_status("/debug/pprof/profile?seconds=2", 200, NULL);
    return NULL;
}

static void concurrent_is_409(void)
{
    pthread_t t;
    ASSERT(pthread_create(&t, NULL, long_profile, NULL) == 0);
    usleep(500000);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/profile?seconds=1", &r), 0);
    ASSERT_EQ(r.status, 409);
    ASSERT_STR_CONTAINS(r.body, "already in use");
    const char *ra = http_header(&r, "retry-after");
    ASSERT(ra && atoi(ra) >= 1 && atoi(ra) <= 2);
    http_reply_free(&r);
    pthread_join(t, NULL);
}

/* The profile (1 s) names the engine in its comments. */
static void engine_is(const char *engine)
{
    char target[] = "/debug/pprof/profile?seconds=1&hz=200";
    const char *file = "/tmp/ix_test_cpu_errors.pb.gz";
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

static void forced_engines(void)
{
    if (perf_available()) {
        restart("perf", 0);
        engine_is("perf");
        restart("perf-signal", 0);
        engine_is("perf-signal");
    } else {
        restart("perf", 0);
        expect_status("/debug/pprof/profile?seconds=1", 500, "cannot run here");
    }
    restart("timer", 0);
    engine_is("timer");
    restart("itimer", 0);
    engine_is("itimer");
    restart("itimer", SIGRTMIN + 3); /* setitimer can only send SIGPROF */
    expect_status("/debug/pprof/profile?seconds=1", 500, "only send SIGPROF");
    /* the environment variable wins over the config */
    setenv("INTROSPECT_CPU_ENGINE", "timer", 1);
    restart("perf", 0);
    engine_is("timer");
    unsetenv("INTROSPECT_CPU_ENGINE");
}

static void foreign_profiler(int sig, siginfo_t *si, void *uc) { (void)sig, (void)si, (void)uc; }

static void sigprof_owned_elsewhere(void)
{
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
}

static void disposition_restored(void)
{
    restart("timer", 0);
    signal(SIGPROF, SIG_IGN);
    engine_is("timer");
    struct sigaction cur;
    sigaction(SIGPROF, NULL, &cur);
    ASSERT(cur.sa_handler == SIG_IGN);
    signal(SIGPROF, SIG_DFL);
}

int main(void)
{
    alarm(200);
    port = start_ephemeral();
    workload_start(2);
    bad_queries();
    concurrent_is_409();
    forced_engines();
    sigprof_owned_elsewhere();
    disposition_restored();
    workload_stop();
    introspect_stop();
    printf("ok\n");
    return 0;
}
