/* The task registry over real HTTP: a leaked task and an overdue task show
 * up in /debug/pprof/tasks (text and JSON) with their birth stacks, and in
 * /metrics (checked by promtool) and /debug/vars; the API refuses double
 * ends and misuse; the live cap drops and counts; begins and ends racing
 * from several threads keep the counts exact. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <introspect.h>
#include "harness.h"

static introspect_task *g_leaked[3];

/* Where the leaked tasks are born (non-static, noinline: the test is linked
 * with -rdynamic so the baseline symbolizer can name it). */
__attribute__((noinline)) void begin_leaky_tasks(void)
{
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(introspect_task_begin("job", "leaky-job", 0, &g_leaked[i]), 0);
    __asm__ volatile("");
}

static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        introspect_task *t;
        ASSERT_EQ(introspect_task_begin("churn", "c", 0, &t), 0);
        ASSERT_EQ(introspect_task_set_state(t, i % 2 ? "odd" : "even"), 0);
        ASSERT_EQ(introspect_task_end(t), 0);
    }
    return NULL;
}

TEST(api_refuses_double_end_and_misuse)
{
    introspect_task *t;
    ASSERT_EQ(introspect_task_begin("api", "x", 0, NULL), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_task_begin("api", "x", -1, &t), INTROSPECT_EINVAL);
    ASSERT(t == NULL);
    ASSERT_EQ(introspect_task_begin(NULL, NULL, 0, &t), 0);
    ASSERT_EQ(introspect_task_end(t), 0);
    ASSERT_EQ(introspect_task_end(t), INTROSPECT_EINVAL); /* double end */
    ASSERT_EQ(introspect_task_set_state(t, "late"), INTROSPECT_EINVAL);
    /* NULL handles (from a refused begin) are accepted and ignored. */
    ASSERT_EQ(introspect_task_set_state(NULL, "x"), 0);
    ASSERT_EQ(introspect_task_end(NULL), 0);
    ASSERT_EQ(introspect_task_bind_thread(NULL, 1), 0);
}

/* The clock deadlines are measured on: advances across a sleep, never back. */
TEST(monotonic_clock_advances_across_sleep)
{
    int64_t a = introspect_monotonic_ns();
    usleep(20 * 1000);
    int64_t b = introspect_monotonic_ns();
    ASSERT_GT(a, 0);
    ASSERT_GE(b - a, 20 * 1000 * 1000); /* slept at least 20 ms; no upper bound (noisy host) */
    ASSERT_GE(introspect_monotonic_ns(), b);
}

static void churn_concurrently(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
}

/* Begins and ends racing from four threads: the counts are exact. */
TEST(concurrent_begins_and_ends_keep_exact_counts)
{
    int port = start_ephemeral();
    churn_concurrently();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_started_total{kind=\"churn\"} 80000\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_ended_total{kind=\"churn\"} 80000\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_live{kind=\"churn\"} 0\n");
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

/* The scenario the views are checked on: three leaked jobs, 80000 churned
 * tasks, an rpc overdue (1 ms deadline) and bound to this thread, an http
 * request with a far deadline. */
static introspect_task *g_overdue, *g_request;
static int start_scenario(void)
{
    int port = start_ephemeral();
    begin_leaky_tasks();
    churn_concurrently();
    ASSERT_OK(introspect_task_begin("rpc", "call-backend", 1000000 /* 1 ms */, &g_overdue));
    ASSERT_OK(introspect_task_set_state(g_overdue, "waiting on backend"));
    ASSERT_OK(introspect_task_bind_thread(g_overdue, 1));
    ASSERT_OK(introspect_task_begin("http", "GET /", 0, &g_request));
    ASSERT_OK(introspect_task_set_deadline(g_request, introspect_monotonic_ns() + 3600e9));
    usleep(20 * 1000);
    return port;
}

static void end_scenario(void)
{
    ASSERT_OK(introspect_task_end(g_request));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(introspect_task_end(g_leaked[i]));
    ASSERT_OK(introspect_stop());
}

TEST(text_lists_leaked_and_overdue_with_birth_stacks)
{
    int port = start_scenario();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/tasks", &r), 0);
    ASSERT_EQ(r.status, 200);
    const char *b = r.body;
    ASSERT_STR_CONTAINS(b, "tasks: 5 live, 1 overdue");
    ASSERT_STR_CONTAINS(b, "kind churn: 0 live, 0 overdue, 80000 started, 80000 ended");
    ASSERT_STR_CONTAINS(b, "job \"leaky-job\" age ");
    ASSERT_STR_CONTAINS(b, "born at:\n\tbegin_leaky_tasks()");
    ASSERT_STR_CONTAINS(b, "rpc \"call-backend\"");
    ASSERT_STR_CONTAINS(b, "state \"waiting on backend\" OVERDUE by ");
    ASSERT_STR_CONTAINS(b, "kind http: 1 live, 0 overdue");
    /* Oldest first: the leaked tasks were begun before the others. */
    ASSERT(strstr(b, "leaky-job") < strstr(b, "call-backend"));
    char thread[32];
    snprintf(thread, sizeof thread, " thread %d\n", (int)gettid());
    ASSERT_STR_CONTAINS(b, thread);
    http_reply_free(&r);
    end_scenario();
}

TEST(json_lists_leaked_and_overdue)
{
    int port = start_scenario();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/tasks?format=json", &r), 0);
    ASSERT_EQ(r.status, 200);
    const char *path = write_temp("tasks-json", r.body, r.body_len);
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "o=[t for t in d[\"tasks\"] if t[\"overdue\"]]; "
             "l=[t for t in d[\"tasks\"] if t[\"name\"]==\"leaky-job\"]; "
             "print(d[\"live\"], len(o), o[0][\"name\"], o[0][\"overdue_seconds\"]>0, "
             "len(l), l[0][\"birth_stack\"][0][\"function\"])' %s",
             path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "5 1 call-backend True 3 begin_leaky_tasks");
    free(out);
    unlink(path);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/tasks?format=xml", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
    end_scenario();
}

TEST(metrics_and_vars_count_by_kind_and_state)
{
    int port = start_scenario();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_live{kind=\"job\"} 3\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_overdue{kind=\"rpc\"} 1\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_deadline_misses_total{kind=\"rpc\"} 1\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_started_total{kind=\"churn\"} 80000\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_by_state{kind=\"rpc\",state=\"waiting on backend\"} 1\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_threads_created_total ");
    const char *path = write_temp("metrics", r.body, r.body_len);
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    int rc = run_cmd(cmd, &out);
    if (rc)
        fprintf(stderr, "%s\n", out);
    ASSERT_EQ(rc, 0);
    free(out);
    unlink(path);
    http_reply_free(&r);

    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "\"tasks\":");
    ASSERT_STR_CONTAINS(r.body, "\"threads\": {\"created\":");
    ASSERT_STR_CONTAINS(r.body, "\"job\":{\"live\":3,\"overdue\":0,\"started\":3,\"ended\":0,\"deadline_misses\":0,\"states\":{\"none\":3}}");
    http_reply_free(&r);
    end_scenario();
}

/* A deadline miss is counted once per task: when first seen overdue or
 * when it ends late, never both. */
TEST(deadline_miss_counted_once)
{
    int port = start_scenario();
    struct http_reply first; /* seen overdue here: counted */
    ASSERT_EQ(http_get(port, "/metrics", &first), 0);
    ASSERT_STR_CONTAINS(first.body, "introspect_tasks_deadline_misses_total{kind=\"rpc\"} 1\n");
    http_reply_free(&first);
    ASSERT_OK(introspect_task_end(g_overdue)); /* ends late: not counted again */
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_deadline_misses_total{kind=\"rpc\"} 1\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_overdue{kind=\"rpc\"} 0\n");
    http_reply_free(&r);
    end_scenario();
}

/* The live cap: begins past it are refused with ELIMIT and counted. */
TEST(live_cap_refuses_and_counts_drops)
{
    int port = start_ephemeral();
    enum { MAX = 5000 };
    static introspect_task *t[MAX];
    int n = 0, rc = 0;
    while (n < MAX && (rc = introspect_task_begin("cap", "c", 0, &t[n])) == 0)
        n++;
    ASSERT_EQ(rc, INTROSPECT_ELIMIT);
    ASSERT(t[n] == NULL);
    ASSERT(n >= 1000 && n <= 2048);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(introspect_task_end(t[i]), 0);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_dropped_total 1\n");
    http_reply_free(&r);
    introspect_task *again;
    ASSERT_EQ(introspect_task_begin("cap", "c", 0, &again), 0); /* slots came back */
    ASSERT_EQ(introspect_task_end(again), 0);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(api_refuses_double_end_and_misuse),
    TEST_ENTRY(monotonic_clock_advances_across_sleep),
    TEST_ENTRY(concurrent_begins_and_ends_keep_exact_counts),
    TEST_ENTRY(text_lists_leaked_and_overdue_with_birth_stacks),
    TEST_ENTRY(json_lists_leaked_and_overdue),
    TEST_ENTRY(metrics_and_vars_count_by_kind_and_state),
    TEST_ENTRY(deadline_miss_counted_once),
    TEST_ENTRY(live_cap_refuses_and_counts_drops),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    setenv("INTROSPECT_TASK_STACKS", "1", 1); /* every begin captures its stack */
    setenv("INTROSPECT_MAX_TASKS", "2048", 1);
    return ix_run_tests(argc, argv, tests);
}
