/* CPU profiles come and go without leaking: 100 short profiles (the client
 * leaves early) keep the fd count, threads born during a profile are
 * sampled, fork() while profiling leaves child and parent healthy, and
 * introspect_stop() during a profile is clean. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

static int port;

/* A temporary file for this process (behaviours may run in parallel). */
static const char *tmp_path(const char *name)
{
    static char path[8][128];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 128, "/tmp/ix_test_%s.%d.pb.gz", name, (int)getpid());
    return p;
}

static void start(void)
{
    port = start_ephemeral();
    workload_start(2);
}

static void finish(void)
{
    workload_stop();
    ASSERT_EQ(count_perf_fds(), 0);
}

/* Start a profile and hang up after ~20 ms. Returns 1 when the profile had
 * started (no answer yet), 0 when the server answered at once (409: the
 * previous profile is still being torn down). */
static int short_profile(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char req[] = "GET /debug/pprof/profile?seconds=5&hz=1000 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1));
    struct pollfd p = {fd, POLLIN, 0};
    int answered = poll(&p, 1, 20);
    close(fd);
    return answered == 0;
}

static void profile_until_ok(const char *target, const char *file)
{
    for (int i = 0; i < 500; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, target, &r), 0);
        int st = r.status;
        if (st == 200) {
            FILE *f = fopen(file, "wb");
            ASSERT(f);
            fwrite(r.body, 1, r.body_len, f);
            fclose(f);
        }
        http_reply_free(&r);
        if (st == 200)
            return;
        ASSERT_EQ(st, 409);
        usleep(10000);
    }
    ASSERT(!"profile stayed busy");
}

static int short_profiles(int n)
{
    int started = 0;
    for (int tries = 0; started < n && tries < 20 * n; tries++) {
        if (short_profile())
            started++;
        else
            usleep(5000);
    }
    return started;
}

TEST(hundred_hung_up_profiles_leak_no_fds)
{
    start();
    /* One-time caches fill up in a first round: the symbolizer keeps the
     * object files it read open, and its first use loads libdebuginfod (and
     * libcurl's dependencies), whose files the next symbolization opens. */
    ASSERT_EQ(short_profiles(10), 10);
    profile_until_ok("/debug/pprof/profile?seconds=1", tmp_path("cpu_lc"));
    profile_until_ok("/debug/pprof/profile?seconds=1", tmp_path("cpu_lc"));
    int before = count_profiler_kind_fds(), all_before = count_fds();
    ASSERT_EQ(short_profiles(100), 100);
    profile_until_ok("/debug/pprof/profile?seconds=1", tmp_path("cpu_lc"));
    int after = count_profiler_kind_fds();
    printf("perf/proc/pipe fds before %d after %d (all fds %d -> %d)\n", before, after,
           all_before, count_fds());
    if (after != before)
        run_cmd("ls -l /proc/$PPID/fd >&2", NULL);
    ASSERT_EQ(after, before);
    ASSERT_EQ(count_perf_fds(), 0);
    ASSERT_EQ(count_perf_maps(), 0); /* the perf engine's rings are unmapped too */
    finish();
    ASSERT_OK(introspect_stop());
}

static _Atomic int churn_stop;
static void *short_lived(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "short-lived");
    cpu_heavy_three(200); /* ~10-20 ms */
    return NULL;
}
static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&churn_stop)) {
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, short_lived, NULL), 0);
        ASSERT_EQ(pthread_join(t, NULL), 0);
    }
    return NULL;
}

TEST(threads_started_during_profile_are_sampled)
{
    start();
    pthread_t c;
    atomic_store(&churn_stop, 0);
    ASSERT_EQ(pthread_create(&c, NULL, churn, NULL), 0);
    const char *file = tmp_path("cpu_lc");
    profile_until_ok("/debug/pprof/profile?seconds=2&hz=1000", file);
    atomic_store(&churn_stop, 1);
    ASSERT_EQ(pthread_join(c, NULL), 0);
    char cmd[256], *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -tags %s 2>&1; gzip -dc %s | grep -ao 'threads: [0-9]* sampled of [0-9]* seen'", file, file);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("%s\n", out);
    ASSERT_STR_CONTAINS(out, "short-lived");
    int sampled = 0, seen = 0;
    const char *p = strstr(out, "threads: ");
    ASSERT(p);
    ASSERT_EQ(sscanf(p, "threads: %d sampled of %d seen", &sampled, &seen), 2);
    ASSERT_GE(seen, 10);  /* the short-lived ones, each found by a rescan */
    ASSERT_GE(sampled, 5);
    free(out);
    unlink(file);
    finish();
    ASSERT_OK(introspect_stop());
}

static void *profile_2s(void *arg)
{
    profile_until_ok("/debug/pprof/profile?seconds=2&hz=1000", arg);
    return NULL;
}

TEST(fork_while_profiling_spares_children)
{
    start();
    pthread_t t;
    const char *file = tmp_path("cpu_fork");
    ASSERT_EQ(pthread_create(&t, NULL, profile_2s, (void *)file), 0);
    usleep(300000);
    for (int i = 0; i < 5; i++) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            cpu_heavy_three(3000); /* busy in the child: no stray signal may kill it */
            _exit(7);
        }
        int st = 0;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            fprintf(stderr, "child died: signal %d\n", WTERMSIG(st));
        ASSERT(WIFEXITED(st));
        ASSERT_EQ(WEXITSTATUS(st), 7);
    }
    ASSERT_EQ(pthread_join(t, NULL), 0);
    char cmd[256], *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -top %s 2>&1", file);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "cpu_heavy_three");
    free(out);
    unlink(file);
    finish();
    ASSERT_OK(introspect_stop());
}

static void *profile_30s(void *arg)
{
    struct http_reply r;
    int rc = http_get(port, "/debug/pprof/profile?seconds=30", &r);
    *(int *)arg = rc == 0 ? r.status : -1;
    if (rc == 0)
        http_reply_free(&r);
    return NULL;
}

TEST(stop_during_profile_answers_503_and_cleans_up)
{
    start();
    int fds0 = count_fds();
    pthread_t t;
    int status = 0;
    ASSERT_EQ(pthread_create(&t, NULL, profile_30s, &status), 0);
    usleep(500000);
    ASSERT_EQ(introspect_stop(), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    printf("profile during stop answered %d\n", status);
    if (status != 503 && status != -1)
        ix_test_fail(__FILE__, __LINE__, "profile during stop answered %d, want 503 or no answer", status);
    struct sigaction cur;
    sigaction(SIGPROF, NULL, &cur);
    ASSERT(cur.sa_handler == SIG_DFL);
    /* the server's listening socket and eventfd are gone too, nothing else */
    int fds1 = count_fds();
    printf("fds during profiles %d, after stop %d\n", fds0, fds1);
    ASSERT(fds1 <= fds0 - 1);
    finish();
}

static const struct ix_test tests[] = {
    TEST_ENTRY(hundred_hung_up_profiles_leak_no_fds),
    TEST_ENTRY(threads_started_during_profile_are_sampled),
    TEST_ENTRY(fork_while_profiling_spares_children),
    TEST_ENTRY(stop_during_profile_answers_503_and_cleans_up),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
