/* A leak amid heavy malloc/free churn: the heap profile, read by
 * `go tool pprof`, ranks the leaking function first with about the leaked
 * bytes; a delta over a second leak window shows only that growth. Run
 * under glibc, tcmalloc and jemalloc (IX_EXPECT_PROFILER / IX_EXPECT_ALLOCATOR
 * say what the environment should give). */
#include <introspect.h>
#include <pthread.h>
#include <unistd.h>

#include "heap_test_util.h"
#include "workload.h"

#define RATE 16384
#define LEAK_COUNT 4096
#define LEAK_SIZE 4096
#define TOLERANCE 0.20 /* ~1000 expected samples: sd ~3%, so 20% never flakes */

static void *churner(void *arg)
{
    churn(300000, (unsigned)(uintptr_t)arg);
    return NULL;
}

struct delta_req {
    int port;
    struct http_reply reply;
    int rc;
};

static void *fetch_delta(void *arg)
{
    struct delta_req *d = arg;
    d->rc = http_get(d->port, "/debug/pprof/heap?seconds=3", &d->reply);
    return NULL;
}

static void check_near(const char *what, long long got, size_t truth)
{
    double err = ((double)got - (double)truth) / (double)truth;
    printf("%s: estimate %lld bytes, truth %zu, error %+.1f%%\n", what, got, truth, 100 * err);
    ASSERT(err > -TOLERANCE && err < TOLERANCE);
}

static void check_errors(int port)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/heap?seconds=abc", &r), 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "invalid value for \"seconds\" - must be a positive integer");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/allocs?seconds=1&debug=1", &r), 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "seconds and debug params are incompatible");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/heap?seconds=999999", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/heap?gc=1&format=nope", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);
}

static void check_memstats(int port, const char *profiler, const char *allocator)
{
    struct http_reply r;
    char want[128];
    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    ASSERT_EQ(r.status, 200);
    snprintf(want, sizeof want, "\"HeapProfiler\":\"%s\"", profiler);
    ASSERT_STR_CONTAINS(r.body, want);
    snprintf(want, sizeof want, "\"Allocator\":\"%s\"", allocator);
    ASSERT_STR_CONTAINS(r.body, want);
    ASSERT_STR_CONTAINS(r.body, "\"Mallocs\":");
    ASSERT_STR_CONTAINS(r.body, "\"inuse_bytes\":");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    /* Exact counts are served only where they are kept: not when no
     * interposer or hook sees the allocations (jemalloc first, no redirect). */
    if (strcmp(profiler, "none") != 0)
        ASSERT_STR_CONTAINS(r.body, "introspect_heap_mallocs_total ");
    else
        ASSERT(strstr(r.body, "introspect_heap_mallocs_total") == NULL);
    ASSERT_STR_CONTAINS(r.body, "introspect_allocator_inuse_bytes ");
    snprintf(want, sizeof want, "allocator=\"%s\"", allocator);
    ASSERT_STR_CONTAINS(r.body, want);
    http_reply_free(&r);
}

int main(void)
{
    skip_if_sanitized();
    alarm(240);
    const char *profiler = getenv("IX_EXPECT_PROFILER") ? getenv("IX_EXPECT_PROFILER") : "interpose";
    const char *allocator = getenv("IX_EXPECT_ALLOCATOR") ? getenv("IX_EXPECT_ALLOCATOR") : "glibc";
    int profiled = strcmp(profiler, "none") != 0;
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = RATE;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();

    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, churner, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < 16; i++) { /* the leak, interleaved with churn */
        leak_memory(LEAK_COUNT / 16, LEAK_SIZE);
        churn(20000, 100 + (unsigned)i);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);

    check_memstats(port, profiler, allocator);
    check_errors(port);
    /* Fetched here, read by pprof from a file: pprof symbolizes locally. */
    struct http_reply hr;
    ASSERT_EQ(http_get(port, "/debug/pprof/heap", &hr), 0);
    ASSERT_EQ(hr.status, 200);
    char args[512];
    snprintf(args, sizeof args, "-sample_index=inuse_space %s",
             write_temp("heap", hr.body, hr.body_len));
    http_reply_free(&hr);
    struct top_row rows[200];
    char *raw;
    int n = pprof_top(args, rows, 200, &raw);
    if (!profiled) { /* jemalloc first: nothing sampled, said in a comment */
        ASSERT_EQ(row_value(rows, n, "leak_memory"), 0);
        printf("ok (not profiled, as expected)\n");
        introspect_stop();
        return 0;
    }
    ASSERT_GT(n, 0);
    if (strcmp(rows[0].name, "leak_memory") != 0)
        fprintf(stderr, "%s\n", raw);
    ASSERT_STR_EQ(rows[0].name, "leak_memory");
    check_near("inuse leak_memory", rows[0].flat, leaked_bytes(0));
    free(raw);

    /* Delta: a second leak inside a 3 s window. */
    struct delta_req d = {.port = port};
    pthread_t dt;
    ASSERT_EQ(pthread_create(&dt, NULL, fetch_delta, &d), 0);
    sleep(1);
    leak_more(LEAK_COUNT / 2, LEAK_SIZE);
    churn(50000, 7);
    pthread_join(dt, NULL);
    ASSERT_EQ(d.rc, 0);
    ASSERT_EQ(d.reply.status, 200);
    ASSERT_STR_CONTAINS(http_header(&d.reply, "Content-Disposition"), "heap-delta");
    const char *path = write_temp("heapdelta", d.reply.body, d.reply.body_len);
    snprintf(args, sizeof args, "-sample_index=inuse_space %s", path);
    n = pprof_top(args, rows, 200, NULL);
    ASSERT_GT(n, 0);
    ASSERT_STR_EQ(rows[0].name, "leak_more");
    check_near("delta leak_more", rows[0].flat, leaked_bytes(1));
    ASSERT(row_value(rows, n, "leak_memory") == 0); /* no growth there in the window */
    http_reply_free(&d.reply);

    /* allocs: alloc_space by default; debug=1 legacy text that pprof reads. */
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/allocs", &r), 0);
    ASSERT_EQ(r.status, 200);
    path = write_temp("allocs", r.body, r.body_len);
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode perftools.profiles.Profile --proto_path=$(dirname "
             "$IX_PROFILE_PROTO) $IX_PROFILE_PROTO",
             path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "string_table: \"alloc_objects\"");
    ASSERT_STR_CONTAINS(out, "string_table: \"inuse_space\"");
    ASSERT_STR_CONTAINS(out, "default_sample_type: ");
    ASSERT_STR_CONTAINS(out, "period: 16384");
    free(out);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/heap?debug=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "heap profile: ");
    ASSERT_STR_CONTAINS(r.body, "@ heap/32768\n");
    path = write_temp("heaptext", r.body, r.body_len);
    snprintf(args, sizeof args, "-sample_index=inuse_space %s", path);
    n = pprof_top(args, rows, 200, NULL); /* pprof parses the legacy form */
    ASSERT_GT(n, 0);
    http_reply_free(&r);

    ASSERT_EQ(introspect_stop(), 0);
    printf("ok\n");
    return 0;
}
