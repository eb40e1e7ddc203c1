/* A pre-forking server seen through one address: forked children start
 * their own instances, the root lists them, ?pid=N reaches one, profiles of
 * the tree are merged with a pid label (read back by go tool pprof and
 * protoc), a child that cannot answer is named as missing without hanging
 * the request, and 1,000 children that come and go leave no descriptor and
 * no slot behind. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "introspect.h"
#include "tree_harness.h"

#define NCHILD 3

static pid_t g_kids[64];
static int g_nkids;

/* Each worker burns CPU here, so its samples name it. */
static volatile unsigned long g_sink; /* the loop's work is kept */

__attribute__((noinline)) void tree_worker_spin(void)
{
    for (;;)
        for (unsigned long i = 0; i < 1000000; i++)
            g_sink += i * i;
}

static void kill_kids(void)
{
    for (int i = 0; i < g_nkids; i++) {
        kill(g_kids[i], SIGKILL);
        waitpid(g_kids[i], NULL, 0);
    }
    g_nkids = 0;
}

static pid_t fork_worker(void)
{
    pid_t p = tree_fork(tree_worker_spin);
    g_kids[g_nkids++] = p;
    return p;
}

TEST(children_start_instances_and_are_listed)
{
    int port = start_ephemeral();
    for (int i = 0; i < NCHILD; i++)
        fork_worker();
    char *body = tree_wait_for_processes(port, NCHILD + 1);
    char want[64];
    snprintf(want, sizeof want, "\"pid\":%d,\"ppid\":%d,\"root\":true", (int)getpid(),
             (int)getppid());
    ASSERT_STR_CONTAINS(body, want);
    for (int i = 0; i < g_nkids; i++) {
        snprintf(want, sizeof want, "\"pid\":%d,\"ppid\":%d,\"root\":false", (int)g_kids[i],
                 (int)getpid());
        ASSERT_STR_CONTAINS(body, want);
    }
    struct http_reply r;
    ASSERT_OK(http_get(port, "/debug/pprof/?format=json", &r));
    ASSERT_STR_CONTAINS(r.body, "\"tree\":{\"self\":");
    http_reply_free(&r);
    kill_kids();
}

TEST(pid_parameter_reaches_one_process)
{
    int port = start_ephemeral();
    pid_t kid = fork_worker();
    free(tree_wait_for_processes(port, 2));
    char target[128], want[64];
    snprintf(target, sizeof target, "/debug/pprof/processes?pid=%d", (int)kid);
    struct http_reply r;
    ASSERT_OK(http_get(port, target, &r));
    ASSERT_EQ(r.status, 200);
    snprintf(want, sizeof want, "{\"self\":%d,", (int)kid);
    ASSERT_STR_CONTAINS(r.body, want);
    http_reply_free(&r);
    ASSERT_OK(http_get(port, "/debug/pprof/processes?pid=self", &r));
    snprintf(want, sizeof want, "{\"self\":%d,", (int)getpid());
    ASSERT_STR_CONTAINS(r.body, want);
    http_reply_free(&r);
    ASSERT_OK(http_get(port, "/debug/pprof/cmdline?pid=1", &r));
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_CONTAINS(r.body, "no process 1 in this tree");
    http_reply_free(&r);
    ASSERT_OK(http_get(port, "/debug/pprof/cmdline?pid=x", &r));
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
    kill_kids();
}

static void fetch_to_file(int port, const char *target, const char *path)
{
    struct http_reply r;
    ASSERT_OK(http_get(port, target, &r));
    if (r.status != 200)
        ix_test_fail(__FILE__, __LINE__, "%s: %d %s", target, r.status, r.body);
    FILE *f = fopen(path, "wb");
    ASSERT(f);
    fwrite(r.body, 1, r.body_len, f);
    fclose(f);
    http_reply_free(&r);
}

TEST(tree_cpu_profile_is_merged_with_pid_labels)
{
    int port = start_ephemeral();
    for (int i = 0; i < NCHILD; i++)
        fork_worker();
    free(tree_wait_for_processes(port, NCHILD + 1));
    char path[64], cmd[512];
    snprintf(path, sizeof path, "/tmp/ix_tree_%d.pb.gz", (int)getpid());
    fetch_to_file(port, "/debug/pprof/profile?seconds=2", path);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -tags %s 2>&1", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    for (int i = 0; i < g_nkids; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d", (int)g_kids[i]);
        ASSERT_STR_CONTAINS(out, want);
    }
    ASSERT_STR_CONTAINS(out, "pid:");
    ASSERT_STR_CONTAINS(out, "process:");
    free(out);
    /* One worker alone: its spin function carries (nearly) all of its samples. */
    snprintf(cmd, sizeof cmd, "go tool pprof -top -tagfocus=pid=%d %s 2>&1", (int)g_kids[1], path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "tree_worker_spin");
    free(out);
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode=perftools.profiles.Profile "
             "-I/usr/share/gocode/src/github.com/google/pprof/proto profile.proto 2>&1 | "
             "grep -c 'process tree: 4 of 4 processes merged'", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    free(out);
    unlink(path);
    kill_kids();
}

/* The value of an unlabelled metric in one process's /metrics (?pid=). */
static double metric_of(int port, int pid, const char *name)
{
    char target[96], want[96];
    snprintf(target, sizeof target, "/metrics?pid=%d", pid);
    struct http_reply r;
    ASSERT_OK(http_get(port, target, &r));
    ASSERT_EQ(r.status, 200);
    snprintf(want, sizeof want, "\n%s ", name);
    const char *at = strstr(r.body, want);
    if (!at)
        ix_test_fail(__FILE__, __LINE__, "%s: no %s", target, name);
    double v = atof(at + strlen(want));
    http_reply_free(&r);
    return v;
}

/* A child asked for addresses (?symbolize=0) names none of its file frames;
 * in a merged profile the root names them (function, file, line) and the
 * children read no symbols at all. */
TEST(tree_root_names_the_childrens_frames)
{
    int port = start_ephemeral();
    for (int i = 0; i < 2; i++)
        fork_worker();
    free(tree_wait_for_processes(port, 3));
    const char *parsed = "introspect_symbol_objects_parsed_total";
    double kid0 = metric_of(port, g_kids[0], parsed), kid1 = metric_of(port, g_kids[1], parsed);
    double root0 = metric_of(port, (int)getpid(), parsed);
    char path[64], cmd[640], target[96];
    snprintf(path, sizeof path, "/tmp/ix_tree_s%d.pb.gz", (int)getpid());
    snprintf(target, sizeof target, "/debug/pprof/profile?seconds=1&symbolize=0&pid=%d",
             (int)g_kids[0]);
    fetch_to_file(port, target, path);
    char *out = NULL;
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode=perftools.profiles.Profile "
             "-I/usr/share/gocode/src/github.com/google/pprof/proto profile.proto 2>&1", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "location {");
    ASSERT(strstr(out, "tree_worker_spin") == NULL); /* addresses only */
    free(out);

    fetch_to_file(port, "/debug/pprof/profile?seconds=2", path);
    snprintf(cmd, sizeof cmd, "go tool pprof -top -lines -tagfocus=pid=%d %s 2>&1",
             (int)g_kids[1], path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "tree_worker_spin");
    ASSERT_STR_CONTAINS(out, "test_tree.c:");
    free(out);
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode=perftools.profiles.Profile "
             "-I/usr/share/gocode/src/github.com/google/pprof/proto profile.proto 2>&1 | "
             "grep -c 'could not be named'", path);
    ASSERT_NE(run_cmd(cmd, &out), 0); /* grep found nothing: every frame was named */
    free(out);
    unlink(path);
    double kid0b = metric_of(port, g_kids[0], parsed), kid1b = metric_of(port, g_kids[1], parsed);
    double root1 = metric_of(port, (int)getpid(), parsed);
    printf("objects parsed: children %g->%g, %g->%g; root %g->%g\n", kid0, kid0b, kid1, kid1b,
           root0, root1);
    ASSERT(kid0b == kid0 && kid1b == kid1);
    ASSERT(root1 > root0);
    kill_kids();
}

TEST(tree_heap_and_threads_are_merged)
{
    int port = start_ephemeral();
    for (int i = 0; i < 2; i++)
        fork_worker();
    free(tree_wait_for_processes(port, 3));
    char path[64], cmd[512];
    snprintf(path, sizeof path, "/tmp/ix_tree_h%d.pb.gz", (int)getpid());
    const char *targets[] = {"/debug/pprof/heap", "/debug/pprof/goroutine", "/debug/pprof/block"};
    for (size_t t = 0; t < 3; t++) {
        fetch_to_file(port, targets[t], path);
        char *out = NULL;
        snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1", path);
        ASSERT_EQ(run_cmd(cmd, &out), 0);
        ASSERT_STR_CONTAINS(out, "process tree: 3 of 3 processes merged");
        free(out);
    }
    snprintf(cmd, sizeof cmd, "go tool pprof -tags %s 2>&1", path);
    unlink(path);
    struct http_reply r;
    ASSERT_OK(http_get(port, "/debug/pprof/threads?debug=1", &r));
    ASSERT_EQ(r.status, 200);
    for (int i = 0; i < g_nkids; i++) {
        char want[64];
        snprintf(want, sizeof want, "# pid %d (", (int)g_kids[i]);
        ASSERT_STR_CONTAINS(r.body, want);
    }
    http_reply_free(&r);
    kill_kids();
}

TEST(a_child_that_cannot_answer_is_missing_not_a_hang)
{
    int port = start_ephemeral();
    fork_worker();
    pid_t stuck = fork_worker();
    free(tree_wait_for_processes(port, 3));
    kill(stuck, SIGSTOP); /* alive, listed, and silent */
    char path[64], cmd[512];
    snprintf(path, sizeof path, "/tmp/ix_tree_m%d.pb.gz", (int)getpid());
    fetch_to_file(port, "/debug/pprof/profile?seconds=1", path);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    char want[64];
    snprintf(want, sizeof want, "pid %d (", (int)stuck);
    ASSERT_STR_CONTAINS(out, want);
    ASSERT_STR_CONTAINS(out, "is missing: no answer in 11000 ms");
    ASSERT_STR_CONTAINS(out, "2 of 3 processes merged");
    free(out);
    unlink(path);
    kill(stuck, SIGCONT);
    kill_kids();
}

/* Validate the trace at path (JSON, or Perfetto's protobuf decoded by protoc)
 * with tests/trace/check_trace.py or check_perfetto.py and args. */
static void check_tree_trace(int perfetto, const char *path, const char *args)
{
    const char *src = getenv("IX_SOURCE_DIR");
    const char *checker = perfetto ? "check_perfetto.py" : "check_trace.py";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/trace/%s %s %s 2>&1", src ? src : ".", checker,
             path, args);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0) /* 77 included: protoc is in scripts/deps.sh */
        ix_test_fail(__FILE__, __LINE__, "%s failed (%d):\n%s", checker, rc, out ? out : "");
    free(out);
}

static const char *trace_target(int perfetto)
{
    return perfetto ? "/debug/pprof/trace?seconds=1&format=perfetto"
                    : "/debug/pprof/trace?seconds=1";
}

/* A 1 s trace of the tree: every process's events under its own pid, each
 * process named (title and pid), ids kept apart per process (Perfetto: a
 * process track per pid, every track's uuid and packet under its own pid
 * and sequence, the tree's notes on the root's track). */
static void every_process_under_its_pid(int perfetto)
{
    int port = start_ephemeral();
    for (int i = 0; i < NCHILD; i++)
        fork_worker();
    free(tree_wait_for_processes(port, NCHILD + 1));
    char path[64], args[256];
    snprintf(path, sizeof path, "/tmp/ix_tree_t%d.%s", (int)getpid(),
             perfetto ? "pftrace" : "json");
    fetch_to_file(port, trace_target(perfetto), path);
    int n = snprintf(args, sizeof args, "--tree-pids %d", (int)getpid());
    for (int i = 0; i < g_nkids; i++)
        n += snprintf(args + n, sizeof args - (size_t)n, ",%d", (int)g_kids[i]);
    check_tree_trace(perfetto, path, args);
    unlink(path);
    kill_kids();
}

TEST(tree_trace_has_every_process_under_its_pid) { every_process_under_its_pid(0); }

TEST(tree_trace_perfetto_has_every_process_under_its_pid) { every_process_under_its_pid(1); }

/* A stopped child: the trace ends with its window plus the grace, the child
 * named missing in otherData (Perfetto: in the tree's notes, and a process
 * track of its own named missing), the others merged. */
static void silent_child_missing(int perfetto)
{
    int port = start_ephemeral();
    pid_t ok = fork_worker();
    pid_t stuck = fork_worker();
    free(tree_wait_for_processes(port, 3));
    kill(stuck, SIGSTOP);
    char path[64], args[128];
    snprintf(path, sizeof path, "/tmp/ix_tree_tm%d.%s", (int)getpid(),
             perfetto ? "pftrace" : "json");
    fetch_to_file(port, trace_target(perfetto), path);
    snprintf(args, sizeof args, "--tree-pids %d,%d --tree-missing %d", (int)getpid(), (int)ok,
             (int)stuck);
    check_tree_trace(perfetto, path, args);
    char *out = NULL, cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c 'is missing: no answer in 11000 ms' %s", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    free(out);
    unlink(path);
    kill(stuck, SIGCONT);
    kill_kids();
}

TEST(tree_trace_names_a_silent_child_missing) { silent_child_missing(0); }

TEST(tree_trace_perfetto_names_a_silent_child_missing) { silent_child_missing(1); }

/* Whether this process's trace window runs: its sampler thread exists
 * only then (sampling/trace/window.c names it). */
static int trace_running_here(void)
{
    DIR *d = opendir("/proc/self/task");
    int found = 0;
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            found = fgets(comm, sizeof comm, f) && strncmp(comm, "introspect-trc", 14) == 0;
            fclose(f);
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* A worker that exits (exit(3), as an nginx worker does) a moment after
 * its part of a tree trace began: the exit is held while it encodes its
 * part until then, which the root merges. Bounded: it gives up after 60 s. */
static void exiting_worker_body(void)
{
    for (int i = 0; i < 6000 && !trace_running_here(); i++)
        tree_sleep_ms(10);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long until = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + 300;
    do { /* 300 ms of work the part shows */
        for (unsigned long i = 0; i < 100000; i++)
            g_sink += i * i;
        clock_gettime(CLOCK_MONOTONIC, &ts);
    } while (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 < until);
    exit(0);
}

static pid_t fork_exiting_worker(void)
{
    pid_t p = tree_fork(exiting_worker_body);
    g_kids[g_nkids++] = p;
    return p;
}

/* A child that exits in the middle of the window is in the tree trace: its
 * lanes until its exit, and a note naming it as exited. */
static void exiting_child_is_kept(int perfetto)
{
    int port = start_ephemeral();
    pid_t stays = fork_worker();
    pid_t leaves = fork_exiting_worker();
    free(tree_wait_for_processes(port, 3));
    char path[64], args[160];
    snprintf(path, sizeof path, "/tmp/ix_tree_tx%d.%s", (int)getpid(),
             perfetto ? "pftrace" : "json");
    fetch_to_file(port, perfetto ? "/debug/pprof/trace?seconds=3&format=perfetto"
                                 : "/debug/pprof/trace?seconds=3", path);
    snprintf(args, sizeof args, "--tree-pids %d,%d,%d", (int)getpid(), (int)stays, (int)leaves);
    if (perfetto) {
        size_t n = strlen(args);
        snprintf(args + n, sizeof args - n, " --tree-exited %d", (int)leaves);
    }
    check_tree_trace(perfetto, path, args);
    char *out = NULL, cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c 'pid %d (.*exited during the window' %s", (int)leaves, path);
    if (run_cmd(cmd, &out) != 0)
        ix_test_fail(__FILE__, __LINE__, "%s: pid %d not named as exited", path, (int)leaves);
    free(out);
    int st = 0;
    ASSERT_EQ(waitpid(leaves, &st, 0), leaves);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    g_nkids--; /* reaped: the last one forked */
    unlink(path);
    kill_kids();
}

TEST(tree_trace_keeps_a_child_that_exits_in_the_window) { exiting_child_is_kept(0); }

TEST(tree_trace_perfetto_keeps_a_child_that_exits_in_the_window) { exiting_child_is_kept(1); }

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* 1,000 children, each starting its instance and registering, then exiting
 * (half cleanly, half killed): the root keeps no descriptor and no slot. */
TEST(fork_churn_leaks_nothing)
{
    setenv("INTROSPECT_TREE_DELAY_MS", "0", 1);
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_OK(http_get(port, "/debug/pprof/processes", &r));
    http_reply_free(&r);
    int fds_before = count_fds();
    int registered = 0;
    for (int i = 0; i < 1000; i++) {
        int pipefd[2];
        ASSERT_OK(pipe(pipefd));
        pid_t p = fork();
        ASSERT_GE(p, 0);
        if (p == 0) {
            close(pipefd[0]);
            for (int k = 0; k < 20000 && introspect_port() <= 0; k++)
                tree_sleep_ms(1);
            char c = introspect_port() > 0 ? 'r' : 'n';
            if (write(pipefd[1], &c, 1) != 1)
                _exit(2);
            if (i % 2)
                pause(); /* killed */
            _exit(0);
        }
        close(pipefd[1]);
        char c = 0;
        if (read(pipefd[0], &c, 1) == 1 && c == 'r')
            registered++;
        close(pipefd[0]);
        if (i % 2)
            kill(p, SIGKILL);
        ASSERT_EQ(waitpid(p, NULL, 0), p);
    }
    ASSERT_EQ(registered, 1000);
    /* Not equal: the server may still have held the first request's
     * connection when fds_before was counted (seen: 11 after, 12 before). */
    ASSERT_LE(count_fds(), fds_before);
    ASSERT_OK(http_get(port, "/debug/pprof/processes", &r));
    ASSERT_EQ(tree_count_substr(r.body, "\"pid\":"), 1);
    ASSERT_STR_CONTAINS(r.body, "\"table_full\":0");
    http_reply_free(&r);
    /* No runtime files: the tree lives in memory only. */
    char cmd[128], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls /tmp | grep -c introspect-%d", (int)getuid());
    run_cmd(cmd, &out);
    ASSERT_STR_EQ(out, "0\n");
    free(out);
}

TEST(tree_off_means_no_child_instance)
{
    setenv("INTROSPECT_TREE", "0", 1);
    int port = start_ephemeral();
    fork_worker();
    tree_sleep_ms(500);
    struct http_reply r;
    ASSERT_OK(http_get(port, "/debug/pprof/processes", &r));
    ASSERT_EQ(tree_count_substr(r.body, "\"pid\":"), 1);
    http_reply_free(&r);
    kill_kids();
}

/* The module's threads must never call the C library's time-zone functions:
 * glibc's gmtime_r and localtime_r take one process-wide lock that fork does
 * not reset, so a module thread inside one when the host forks leaves the
 * child's next localtime() (the host's logging) blocked forever. Seen: 3 of
 * 31 workers of a tree stuck in libmicrohttpd's Date header (gdb: tzset_lock).
 * This executable exports its own gmtime_r/localtime_r (the libraries'
 * calls bind to them) and counts calls from introspect-* threads. */
static atomic_int g_tz_calls;

static void count_tz_call(void)
{
    char name[16] = "";
    prctl(PR_GET_NAME, name);
    if (strncmp(name, "introspect", 10) == 0)
        atomic_fetch_add(&g_tz_calls, 1);
}

struct tm *gmtime_r(const time_t *t, struct tm *tm)
{
    count_tz_call();
    static struct tm *(*real)(const time_t *, struct tm *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "gmtime_r");
    return real(t, tm);
}

struct tm *localtime_r(const time_t *t, struct tm *tm)
{
    count_tz_call();
    static struct tm *(*real)(const time_t *, struct tm *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "localtime_r");
    return real(t, tm);
}

TEST(module_threads_never_take_the_time_zone_lock)
{
    int port = start_ephemeral();
    const char *targets[] = {"/debug/pprof/cmdline", "/debug/pprof/nope",
                             "/debug/pprof/heap?debug=1", "/debug/pprof/profile?seconds=1&debug=1",
                             "/debug/vars", "/metrics"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        struct http_reply r;
        ASSERT_OK(http_get(port, targets[i], &r));
        ASSERT_STR_CONTAINS(r.headers, "date: ");
        http_reply_free(&r);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm); /* the interposer works: this thread is not counted */
    ASSERT_EQ(atomic_load(&g_tz_calls), 0);
}

/* Nor the locale lock: glibc's strerror translates through dcgettext, which
 * holds the process-wide locale lock while it looks, and a fork then leaves
 * it held in the child, whose next setlocale() blocks forever. Seen: a
 * PostgreSQL backend stuck in InitPostgres for an hour while the
 * postmaster's module reported failed connects to exited backends.
 * scripts/check_layers.py refuses those calls in src/; this counts the
 * calls the libraries the module uses make on its threads (elfutils and
 * GnuTLS translate their messages through dgettext). */
static atomic_int g_locale_calls;

static void count_locale_call(void)
{
    char name[16] = "";
    prctl(PR_GET_NAME, name);
    if (strncmp(name, "introspect", 10) == 0)
        atomic_fetch_add(&g_locale_calls, 1);
}

char *strerror(int e)
{
    count_locale_call();
    static char *(*real)(int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "strerror");
    return real(e);
}

char *dcgettext(const char *domain, const char *msgid, int category)
{
    count_locale_call();
    static char *(*real)(const char *, const char *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "dcgettext");
    return real(domain, msgid, category);
}

char *dgettext(const char *domain, const char *msgid)
{
    count_locale_call();
    static char *(*real)(const char *, const char *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "dgettext");
    return real(domain, msgid);
}

TEST(module_threads_never_take_the_locale_lock)
{
    int port = start_ephemeral();
    fork_worker();
    pid_t stopped = fork_worker();
    free(tree_wait_for_processes(port, 3));
    const char *targets[] = {"/debug/pprof/threads?debug=2", "/debug/pprof/heap?debug=1",
                             "/debug/pprof/profile?seconds=1&debug=1", "/debug/pprof/nope",
                             "/debug/pprof/threads?pid=1"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        struct http_reply r;
        ASSERT_OK(http_get(port, targets[i], &r));
        http_reply_free(&r);
    }
    kill(stopped, SIGKILL); /* a child that vanishes */
    struct http_reply r;
    ASSERT_OK(http_get(port, "/debug/pprof/heap?debug=1", &r));
    http_reply_free(&r);
    (void)strerror(EINVAL); /* the interposer works: this thread is not counted */
    ASSERT_EQ(atomic_load(&g_locale_calls), 0);
    kill_kids();
}

static const struct ix_test tests[] = {
    TEST_ENTRY(module_threads_never_take_the_time_zone_lock),
    TEST_ENTRY(module_threads_never_take_the_locale_lock),
    TEST_ENTRY(children_start_instances_and_are_listed),
    TEST_ENTRY(pid_parameter_reaches_one_process),
    TEST_ENTRY(tree_cpu_profile_is_merged_with_pid_labels),
    TEST_ENTRY(tree_root_names_the_childrens_frames),
    TEST_ENTRY(tree_heap_and_threads_are_merged),
    TEST_ENTRY(a_child_that_cannot_answer_is_missing_not_a_hang),
    TEST_ENTRY(tree_trace_has_every_process_under_its_pid),
    TEST_ENTRY(tree_trace_names_a_silent_child_missing),
    TEST_ENTRY(tree_trace_perfetto_has_every_process_under_its_pid),
    TEST_ENTRY(tree_trace_perfetto_names_a_silent_child_missing),
    TEST_ENTRY(tree_trace_keeps_a_child_that_exits_in_the_window),
    TEST_ENTRY(tree_trace_perfetto_keeps_a_child_that_exits_in_the_window),
    TEST_ENTRY(fork_churn_leaks_nothing),
    TEST_ENTRY(tree_off_means_no_child_instance),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return tree_main(argc, argv, tests); }
