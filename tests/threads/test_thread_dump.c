/* The thread dump over real HTTP: threads blocked in known places show up
 * with the right state and functions (debug=2, JSON), the grouped text and
 * the pprof output (read by go tool pprof and protoc) agree, a thread that
 * blocks every signal is listed from /proc with the reason, and dumps taken
 * while threads start and exit complete and leave the process healthy. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <introspect.h>
#include "harness.h"

static int g_pipe[2];
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static atomic_int g_stop, g_ready, g_churn_stop, g_churned;

/* Known places to be found in. noinline and non-static so they keep their
 * own frames and names (the test is linked with -rdynamic). */
__attribute__((noinline)) void blocked_in_pipe_read(void)
{
    char c;
    introspect_task *t; /* the dump shows the task this thread runs */
    ASSERT_EQ(introspect_task_begin("job", "pipe-reader", 0, &t), 0);
    introspect_task_set_state(t, "reading");
    introspect_task_bind_thread(t, 1);
    atomic_fetch_add(&g_ready, 1);
    while (read(g_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    introspect_task_end(t);
    __asm__ volatile("");
}

__attribute__((noinline)) void blocked_in_cond_wait(void)
{
    pthread_mutex_lock(&g_mu);
    atomic_fetch_add(&g_ready, 1);
    while (!atomic_load(&g_stop))
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    __asm__ volatile("");
}

__attribute__((noinline)) void blocked_in_nanosleep(void)
{
    atomic_fetch_add(&g_ready, 1);
    while (!atomic_load(&g_stop)) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* EINTR from the dump signal is fine here */
    }
    __asm__ volatile("");
}

__attribute__((noinline)) void spinning_loop(void)
{
    atomic_fetch_add(&g_ready, 1);
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed))
        x++;
    __asm__ volatile("");
}

__attribute__((noinline)) void blocked_with_signals_masked(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    atomic_fetch_add(&g_ready, 1);
    while (!atomic_load(&g_stop)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    __asm__ volatile("");
}

struct spec {
    const char *name;
    void (*fn)(void);
};

static void *run(void *arg)
{
    const struct spec *s = arg;
    pthread_setname_np(pthread_self(), s->name);
    s->fn();
    return NULL;
}

/* Short-lived threads, started and joined continuously during dumps. */
__attribute__((noinline)) void *short_lived(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
    return NULL;
}

__attribute__((noinline)) void *churn(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "t-churn");
    while (!atomic_load(&g_churn_stop)) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            ASSERT_EQ(pthread_create(&t[i], NULL, short_lived, NULL), 0);
        for (int i = 0; i < 4; i++)
            ASSERT_EQ(pthread_join(t[i], NULL), 0);
        atomic_fetch_add(&g_churned, 4);
    }
    return NULL;
}

/* The block of debug=2 text for the thread named name ("" if absent). */
static char *thread_block(const char *dump, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\" [", name);
    const char *p = strstr(dump, pat);
    if (!p)
        return strdup("");
    while (p > dump && p[-1] != '\n')
        p--;
    const char *e = strstr(p, "\n\n");
    return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

static void expect_block(const char *dump, const char *name, const char *state, const char *fn)
{
    char *b = thread_block(dump, name);
    if (!*b)
        ix_test_fail(__FILE__, __LINE__, "thread %s missing from dump:\n%.4000s", name, dump);
    ASSERT_STR_CONTAINS(b, state);
    ASSERT_STR_CONTAINS(b, fn);
    free(b);
}

/* Each behaviour: the five known threads parked in their places, a server. */
static pthread_t g_threads[5];
static const struct spec g_specs[] = {
    {"t-piperead", blocked_in_pipe_read},   {"t-condwait", blocked_in_cond_wait},
    {"t-sleep", blocked_in_nanosleep},      {"t-spin", spinning_loop},
    {"t-masked", blocked_with_signals_masked},
};
enum { NSPECS = sizeof g_specs / sizeof g_specs[0] };

static int start_threads(void)
{
    ASSERT_EQ(pipe(g_pipe), 0);
    setenv("INTROSPECT_ALLOW_INTERRUPT", "1", 1); /* these tests check ?interrupt=1 too */
    int port = start_ephemeral();
    for (int i = 0; i < NSPECS; i++)
        ASSERT_EQ(pthread_create(&g_threads[i], NULL, run, (void *)&g_specs[i]), 0);
    while (atomic_load(&g_ready) < NSPECS)
        usleep(1000);
    usleep(200 * 1000); /* let them reach their blocking calls */
    return port;
}

/* Release the threads; the server must still answer a dump after. */
static void stop_threads(int port)
{
    atomic_store(&g_stop, 1);
    ASSERT_EQ(write(g_pipe[1], "x", 1), 1);
    pthread_mutex_lock(&g_mu);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < NSPECS; i++)
        ASSERT_EQ(pthread_join(g_threads[i], NULL), 0);
    struct http_reply r; /* still healthy */
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=1&interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

TEST(debug2_shows_each_thread_where_it_blocks)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=2&interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "text/plain");
    expect_block(r.body, "t-piperead", "[sleeping", "blocked_in_pipe_read()");
    expect_block(r.body, "t-piperead", "syscall: read(", "#\twchan:");
    expect_block(r.body, "t-piperead", "job \"pipe-reader\" age ", "state \"reading\"");
    expect_block(r.body, "t-condwait", "[sleeping", "blocked_in_cond_wait()");
    expect_block(r.body, "t-sleep", "[sleeping", "blocked_in_nanosleep()");
    expect_block(r.body, "t-spin", "[running", "spinning_loop()");
    /* Blocked threads are walked without a signal, even one that blocks them all. */
    expect_block(r.body, "t-masked", "walked without a signal (blocked); reaches its root",
                 "blocked_with_signals_masked()");
    /* The dumping thread shows itself. */
    ASSERT_STR_CONTAINS(r.body, "#\tstack: this is the thread taking the dump\n");
    http_reply_free(&r);
    stop_threads(port);
}

/* Run a shell command (printf format, %s = path twice at most) that must
 * succeed; returns its output (caller frees). */
static char *must_run(const char *fmt, const char *a, const char *b, const char *c)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, fmt, a, b, c);
    int rc = run_cmd(cmd, &out);
    if (rc != 0)
        fprintf(stderr, "%s\n%s\n", cmd, out ? out : "");
    ASSERT_EQ(rc, 0);
    return out;
}

/* A second dump knows how long a thread that stayed blocked has been so;
 * by default (interrupt=0) threads in calls that would see EINTR get their
 * full stack without a signal. */
TEST(second_dump_knows_how_long_blocked)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=2&interrupt=0", &r), 0); /* the first */
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=2&interrupt=0", &r), 0);
    ASSERT_EQ(r.status, 200);
    expect_block(r.body, "t-piperead", "for at least ", "blocked_in_pipe_read()");
    expect_block(r.body, "t-sleep", "walked without a signal (blocked); reaches its root",
                 "blocked_in_nanosleep()");
    expect_block(r.body, "t-spin", "[running", "spinning_loop()"); /* signalled: running */
    expect_block(r.body, "t-condwait", "[sleeping, >= ", "blocked_in_cond_wait()");
    http_reply_free(&r);
    stop_threads(port);
}

TEST(json_lists_threads_with_frames_and_tasks)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?format=json&interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "application/json");
    const char *path = write_temp("threads-json", r.body, r.body_len);
    char *out = must_run(
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "t={x[\"name\"]:x for x in d[\"threads\"]}; "
             "p=t[\"t-piperead\"]; m=t[\"t-masked\"]; "
             "print(p[\"state\"], p[\"stack_status\"], p[\"frames\"][0][\"function\"] if p[\"frames\"] else \"\", "
             "any(f[\"function\"]==\"blocked_in_pipe_read\" for f in p[\"frames\"]), "
             "m[\"stack_status\"], d[\"threads_total\"]>=6, p[\"tasks\"][0][\"name\"])' %s%s%s",
             path, "", "");
    ASSERT_STR_CONTAINS(out, "S walked");
    ASSERT_STR_CONTAINS(out, "True walked True pipe-reader");
    free(out);
    unlink(path);
    http_reply_free(&r);
    stop_threads(port);
}

TEST(grouped_text_and_folded_agree)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/goroutine?debug=1&interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(strncmp(r.body, "threads profile: total ", 23), 0);
    ASSERT_STR_CONTAINS(r.body, "\tblocked_in_cond_wait");
    ASSERT_STR_CONTAINS(r.body, "# labels: {\"thread\":\"t-condwait\"");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?format=folded&interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    /* Sanitizer builds put their interceptor between the caller and read. */
    const char *line = strstr(r.body, "blocked_in_pipe_read;");
    ASSERT(line);
    ASSERT_STR_CONTAINS(line, ";read;");
    ASSERT(strstr(line, ";read;") < strchr(line, '\n'));
    http_reply_free(&r);
    stop_threads(port);
}

TEST(pprof_output_read_by_go_tool_pprof)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/goroutine?interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "application/octet-stream");
    const char *path = write_temp("goroutine-pb", r.body, r.body_len);
    char *out = must_run("go tool pprof -raw %s 2>&1%s%s", path, "", "");
    ASSERT_STR_CONTAINS(out, "goroutine/count");
    ASSERT_STR_CONTAINS(out, "blocked_in_pipe_read");
    ASSERT_STR_CONTAINS(out, "thread:[t-piperead]");
    free(out);
    out = must_run("gzip -dc %s | protoc --decode perftools.profiles.Profile -I $(dirname %s) %s 2>&1",
                   path, getenv("IX_PROFILE_PROTO"), getenv("IX_PROFILE_PROTO"));
    ASSERT_STR_CONTAINS(out, "sample_type");
    free(out);
    unlink(path);
    http_reply_free(&r);
    stop_threads(port);
}

/* While threads start and exit, every dump completes and still lists the
 * long-lived threads in their state (debug=2), or is a well-formed profile
 * that go tool pprof reads with them in it. */
TEST(dumps_during_thread_churn_are_complete)
{
    int port = start_threads();
    pthread_t ch;
    ASSERT_EQ(pthread_create(&ch, NULL, churn, NULL), 0);
    while (atomic_load(&g_churned) < 8)
        usleep(1000);
    for (int i = 0; i < 15; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, i % 2 ? "/debug/pprof/threads?debug=2&interrupt=1" : "/debug/pprof/threads?interrupt=1",
                           &r), 0);
        ASSERT_EQ(r.status, 200);
        if (i % 2) {
            /* Listed with their /proc state; their stacks are checked by the
             * behaviours above (under churn on a loaded host a walk may time out). */
            expect_block(r.body, "t-piperead", "[sleeping", "#\tstate: S (sleeping)");
            expect_block(r.body, "t-condwait", "[sleeping", "#\tstate: S (sleeping)");
            ASSERT_STR_CONTAINS(r.body, "\"t-churn\" ["); /* listed; its stack may be mid-clone */
        } else {
            ASSERT_GT(r.body_len, 2);
            ASSERT_EQ((unsigned char)r.body[0], 0x1f); /* gzip */
            ASSERT_EQ((unsigned char)r.body[1], 0x8b);
            if (i == 14) {
                const char *path = write_temp("churn-pb", r.body, r.body_len);
                char *out = must_run("go tool pprof -raw %s 2>&1%s%s", path, "", "");
                ASSERT_STR_CONTAINS(out, "PeriodType: goroutine count");
                ASSERT_STR_CONTAINS(out, "thread:[t-piperead]");
                free(out);
                unlink(path);
            }
        }
        http_reply_free(&r);
    }
    atomic_store(&g_churn_stop, 1);
    ASSERT_EQ(pthread_join(ch, NULL), 0);
    ASSERT_GT(atomic_load(&g_churned), 8); /* threads really came and went meanwhile */
    stop_threads(port);
}

/* Concurrent dumps: each gets its dump or a 409 with Retry-After, never a hang. */
static int g_port;
static atomic_int g_ok, g_busy;

static void *dump_client(void *arg)
{
    (void)arg;
    for (int i = 0; i < 8; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(g_port, "/debug/pprof/threads?debug=2&interrupt=1", &r), 0);
        if (r.status == 409) {
            ASSERT_STR_CONTAINS(http_header(&r, "Retry-After"), "1");
            atomic_fetch_add(&g_busy, 1);
        } else {
            ASSERT_EQ(r.status, 200);
            atomic_fetch_add(&g_ok, 1);
        }
        http_reply_free(&r);
    }
    return NULL;
}

TEST(concurrent_dumps_served_or_told_to_retry)
{
    int port = start_threads();
    pthread_t c[4];
    g_port = port;
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&c[i], NULL, dump_client, NULL), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_join(c[i], NULL), 0);
    ASSERT_EQ(atomic_load(&g_ok) + atomic_load(&g_busy), 32);
    ASSERT_GT(atomic_load(&g_ok), 0);
    printf("concurrent dumps: %d served, %d told to retry\n", atomic_load(&g_ok),
           atomic_load(&g_busy));
    stop_threads(port);
}

TEST(threadcreate_names_creating_functions)
{
    int port = start_threads();
    pthread_t ch;
    ASSERT_EQ(pthread_create(&ch, NULL, churn, NULL), 0);
    while (atomic_load(&g_churned) < 8)
        usleep(1000);
    atomic_store(&g_churn_stop, 1);
    ASSERT_EQ(pthread_join(ch, NULL), 0);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threadcreate?debug=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(strncmp(r.body, "threadcreate profile: total ", 28), 0);
    ASSERT_STR_CONTAINS(r.body, "\tchurn");
    ASSERT_STR_CONTAINS(r.body, "\tstart_threads"); /* creator of the parked threads */
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/threadcreate", &r), 0);
    ASSERT_EQ(r.status, 200);
    const char *path = write_temp("threadcreate-pb", r.body, r.body_len);
    char *out = must_run("go tool pprof -top %s 2>&1%s%s", path, "", "");
    ASSERT_STR_CONTAINS(out, "churn");
    free(out);
    unlink(path);
    http_reply_free(&r);
    stop_threads(port);
}

TEST(bad_parameters_are_400)
{
    int port = start_threads();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=7", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?timeout_ms=0", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
    stop_threads(port);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(debug2_shows_each_thread_where_it_blocks),
    TEST_ENTRY(second_dump_knows_how_long_blocked),
    TEST_ENTRY(json_lists_threads_with_frames_and_tasks),
    TEST_ENTRY(grouped_text_and_folded_agree),
    TEST_ENTRY(pprof_output_read_by_go_tool_pprof),
    TEST_ENTRY(bad_parameters_are_400),
    TEST_ENTRY(concurrent_dumps_served_or_told_to_retry),
    TEST_ENTRY(dumps_during_thread_churn_are_complete),
    TEST_ENTRY(threadcreate_names_creating_functions),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    /* Under ASan every blocking call goes through an interceptor built
     * without frame pointers, where the signal-free walk of a blocked thread
     * stops (docs/threads.md): the stacks these behaviours check are the
     * normal and TSan builds' to prove. */
    const char *san = getenv("IX_SANITIZE");
    if (san && strcmp(san, "address") == 0) {
        fprintf(stderr, "skipped under ASan: interceptors stop signal-free walks\n");
        return 77;
    }
    return ix_run_tests(argc, argv, tests);
}
