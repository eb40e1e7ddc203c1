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

static void check_api(void)
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
    ASSERT(introspect_monotonic_ns() > 0);
}

static void check_concurrent_counts(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
}

static void check_tasks_text(int port)
{
    struct http_reply r;
    ASSERT(http_get(port, "/debug/pprof/tasks", &r) == 0);
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
}

static void check_tasks_json(int port)
{
    struct http_reply r;
    ASSERT(http_get(port, "/debug/pprof/tasks?format=json", &r) == 0);
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
    ASSERT(http_get(port, "/debug/pprof/tasks?format=xml", &r) == 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
}

static void check_metrics(int port)
{
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
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

    ASSERT(http_get(port, "/debug/vars", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "\"tasks\":");
    ASSERT_STR_CONTAINS(r.body, "\"threads\": {\"created\":");
    ASSERT_STR_CONTAINS(r.body, "\"job\":{\"live\":3,\"overdue\":0,\"started\":3,\"ended\":0,\"deadline_misses\":0,\"states\":{\"none\":3}}");
    http_reply_free(&r);
}

/* A deadline miss is counted once per task: when first seen overdue or
 * when it ends late, never both. */
static void check_miss_counted_once(int port, introspect_task *overdue)
{
    ASSERT_EQ(introspect_task_end(overdue), 0);
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_deadline_misses_total{kind=\"rpc\"} 1\n");
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_overdue{kind=\"rpc\"} 0\n");
    http_reply_free(&r);
}

/* The live cap: begins past it are refused with ELIMIT and counted. */
static void check_cap(int port)
{
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
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_STR_CONTAINS(r.body, "introspect_tasks_dropped_total 1\n");
    http_reply_free(&r);
    introspect_task *again;
    ASSERT_EQ(introspect_task_begin("cap", "c", 0, &again), 0); /* slots came back */
    ASSERT_EQ(introspect_task_end(again), 0);
}

int main(void)
{
    alarm(120);
    setenv("INTROSPECT_TASK_STACKS", "1", 1); /* every begin captures its stack */
    setenv("INTROSPECT_MAX_TASKS", "2048", 1);
    int port = start_ephemeral();
    check_api();
    begin_leaky_tasks();
    check_concurrent_counts();
    introspect_task *overdue, *request;
    ASSERT_EQ(introspect_task_begin("rpc", "call-backend", 1000000 /* 1 ms */, &overdue), 0);
    ASSERT_EQ(introspect_task_set_state(overdue, "waiting on backend"), 0);
    ASSERT_EQ(introspect_task_bind_thread(overdue, 1), 0);
    ASSERT_EQ(introspect_task_begin("http", "GET /", 0, &request), 0);
    ASSERT_EQ(introspect_task_set_deadline(request, introspect_monotonic_ns() + 3600e9), 0);
    usleep(20 * 1000);
    check_tasks_text(port);
    check_tasks_json(port);
    check_metrics(port);
    check_miss_counted_once(port, overdue);
    check_cap(port);
    ASSERT_EQ(introspect_task_end(request), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(introspect_task_end(g_leaked[i]), 0);
    ASSERT(introspect_stop() == 0);
    printf("ok\n");
    return 0;
}
