/* Children that end during a tree's CPU profile (tree/spill.h): one that
 * exits normally during the window contributes the samples it had
 * (its distinctive function, under its pid label, and a comment saying it
 * exited); one killed by SIGKILL is named missing with the signal, and the
 * request ends with the window instead of hanging. Internal: a child waits
 * for its own capture to run (ix_heavy_busy) before it ends, so the test
 * does not depend on timing. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "http/heavy.h"
#include "introspect.h"
#include "tree_harness.h"
#include "util/clock.h"

static volatile unsigned long g_sink; /* the spinning's result, so it is not optimized out */

__attribute__((noinline)) void tree_exit_steady_spin(void)
{
    for (;;)
        for (unsigned long i = 0; i < 1000000; i++)
            g_sink += i * i;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns cpu_s of this thread's CPU, or less if its capture ends first:
 * 1 if it did (and the capture still runs). */
__attribute__((noinline)) int tree_exit_leaving_worker_spin(double cpu_s)
{
    double end = thread_cpu_s() + cpu_s;
    while (thread_cpu_s() < end) {
        if (!ix_heavy_busy("cpu-profile"))
            return 0;
        for (unsigned long i = 0; i < 100000; i++)
            g_sink += i * i;
    }
    return ix_heavy_busy("cpu-profile");
}

/* Exit codes of the leaving child. */
#define LEFT_IN_WINDOW 0
#define STARVED 4 /* its window ended before it had its CPU: nothing to prove */

static pid_t fork_steady(void) { return tree_fork(tree_exit_steady_spin); }

/* The tree of the root on port lists n processes. */
static void wait_for_processes(int port, int n) { free(tree_wait_for_processes(port, n)); }

struct req {
    int port;
    const char *target;
    struct http_reply r;
    int rc;
};

static void *do_get(void *arg)
{
    struct req *q = arg;
    q->rc = http_get(q->port, q->target, &q->r);
    return NULL;
}

static void save(const struct http_reply *r, const char *path)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f);
    fwrite(r->body, 1, r->body_len, f);
    fclose(f);
}

static int runtime_dirs(void)
{
    char cmd[160], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls -a %s /tmp | grep -c '^introspect-tree-%d-' || true",
             getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "/tmp", (int)getpid());
    run_cmd(cmd, &out);
    int n = atoi(out ? out : "0");
    free(out);
    return n;
}

TEST(a_child_that_exits_in_the_window_contributes_what_it_had)
{
    int port = start_ephemeral();
    pid_t steady = fork_steady();
    pid_t leaving = fork();
    ASSERT_GE(leaving, 0);
    if (leaving == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Until the tree's capture runs here (watchdog: 60 s; from its slot
         * on, an exit is held for it: endpoints/profile.c), then 0.2 s of
         * its CPU (20 periods at 100 Hz; 8 samples or more at the 0.4
         * samples a period seen on a loaded machine, so none is e^-8) in the
         * window of 4 s, then exit(3): atexit runs. A machine that starves
         * it of 0.2 s of CPU in the window leaves nothing to prove: it says
         * so (its exit code). */
        for (int i = 0; i < 60000 && !ix_heavy_busy("cpu-profile"); i++)
            tree_sleep_ms(1);
        exit(tree_exit_leaving_worker_spin(0.2) ? LEFT_IN_WINDOW : STARVED);
    }
    wait_for_processes(port, 3);
    ASSERT_EQ(runtime_dirs(), 0);
    struct req q = {.port = port, .target = "/debug/pprof/profile?seconds=4"};
    do_get(&q);
    ASSERT_OK(q.rc);
    if (q.r.status != 200)
        ix_test_fail(__FILE__, __LINE__, "%d %s", q.r.status, q.r.body);
    int st = 0;
    ASSERT_EQ(waitpid(leaving, &st, 0), leaving);
    ASSERT(WIFEXITED(st));
    if (WEXITSTATUS(st) == STARVED) {
        kill(steady, SIGKILL);
        waitpid(steady, NULL, 0);
        SKIP("starved: the leaving child's 4 s window ended before it ran 0.2 s of CPU");
    }
    ASSERT_EQ(WEXITSTATUS(st), LEFT_IN_WINDOW);
    char path[64], cmd[512], want[160], *out = NULL;
    snprintf(path, sizeof path, "/tmp/ix_tree_exit_%d.pb.gz", (int)getpid());
    save(&q.r, path);
    http_reply_free(&q.r);
    /* The comments: the root's note and the child's own. */
    /* The module's notes only: a failure then shows what the root said. */
    snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1 | grep 'Comment: introspect:' || true", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    snprintf(want, sizeof want, "pid %d (", (int)leaving);
    ASSERT_STR_CONTAINS(out, want);
    ASSERT_STR_CONTAINS(out, "exited during the window: the profile it wrote as it exited is "
                             "merged");
    snprintf(want, sizeof want, "introspect: pid %d exited ", (int)leaving);
    ASSERT_STR_CONTAINS(out, want);
    ASSERT_STR_CONTAINS(out, "process tree: 3 of 3 processes merged");
    free(out);
    /* Its samples, under its pid: the function it ran before it left. */
    snprintf(cmd, sizeof cmd, "go tool pprof -top -tagfocus=pid=%d %s 2>&1", (int)leaving, path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "tree_exit_leaving_worker_spin");
    free(out);
    snprintf(cmd, sizeof cmd, "go tool pprof -top -tagfocus=pid=%d %s 2>&1", (int)steady, path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "tree_exit_steady_spin");
    ASSERT(!strstr(out, "tree_exit_leaving_worker_spin"));
    free(out);
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode=perftools.profiles.Profile "
             "-I/usr/share/gocode/src/github.com/google/pprof/proto profile.proto >/dev/null",
             path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    free(out);
    unlink(path);
    ASSERT_EQ(runtime_dirs(), 0); /* the capture's directory is gone with it */
    kill(steady, SIGKILL);
    waitpid(steady, NULL, 0);
}

TEST(a_child_killed_in_the_window_is_named_missing_without_a_hang)
{
    int port = start_ephemeral();
    pid_t steady = fork_steady();
    pid_t doomed = fork_steady();
    wait_for_processes(port, 3);
    struct req q = {.port = port, .target = "/debug/pprof/profile?seconds=2"};
    pthread_t t;
    ASSERT_OK(pthread_create(&t, NULL, do_get, &q));
    /* The root's own capture runs: the children's started with it. */
    for (int i = 0; i < 60000 && !ix_heavy_busy("cpu-profile"); i++)
        tree_sleep_ms(1);
    tree_sleep_ms(300);
    ASSERT_OK(kill(doomed, SIGKILL)); /* reaped after the request: a zombie until then */
    pthread_join(t, NULL);
    ASSERT_OK(q.rc);
    if (q.r.status != 200)
        ix_test_fail(__FILE__, __LINE__, "%d %s", q.r.status, q.r.body);
    char path[64], cmd[512], want[200], *out = NULL;
    snprintf(path, sizeof path, "/tmp/ix_tree_kill_%d.pb.gz", (int)getpid());
    save(&q.r, path);
    http_reply_free(&q.r);
    snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1 | grep 'Comment: introspect:' || true", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    snprintf(want, sizeof want, "introspect: pid %d (", (int)doomed);
    ASSERT_STR_CONTAINS(out, want);
    ASSERT_STR_CONTAINS(out, "is missing: it was killed by signal 9 (Killed) during the window");
    ASSERT_STR_CONTAINS(out, "process tree: 2 of 3 processes merged");
    free(out);
    snprintf(cmd, sizeof cmd, "go tool pprof -top -tagfocus=pid=%d %s 2>&1", (int)steady, path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "tree_exit_steady_spin");
    free(out);
    unlink(path);
    ASSERT_EQ(waitpid(doomed, NULL, 0), doomed);
    kill(steady, SIGKILL);
    waitpid(steady, NULL, 0);
    ASSERT_EQ(runtime_dirs(), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(a_child_that_exits_in_the_window_contributes_what_it_had),
    TEST_ENTRY(a_child_killed_in_the_window_is_named_missing_without_a_hang),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return tree_main(argc, argv, tests); }
