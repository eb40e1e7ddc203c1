/* /debug/pprof/trace: an execution trace of a workload where one request in
 * a hundred waits on a starved pool.
 *
 * The workload: a worker thread serves 100 requests in a row, each a task
 * (kind "request", bound to the worker) that takes the one connection of
 * pool "db" (introspect pool API over a mutex and condition variable),
 * works ~1 ms and gives it back. Before request 50 a hog thread takes the
 * connection and holds it 60 ms, so request 50 ("GET /slow/50") waits for
 * it; before request 70 another thread holds a mutex the worker needs for
 * 20 ms (a contended mutex wait, where the interposer is compiled in). The
 * trace (seconds=2) is checked by tests/trace/check_trace.py: the format
 * (required fields per phase, X nesting and B/E pairs per lane, flow pairs,
 * numeric counters), then that request 50's span holds a pool-wait child
 * linked to it, that the worker's state lane shows it blocked during the
 * wait with the stack of the acquire (pool_get), and that the pool's in-use
 * counter is at its maximum during the wait. No timing is asserted beyond
 * "the 60 ms wait lasted at least 30 ms" (it cannot be shorter than the
 * hog's hold minus the test's own scheduling). */
#include <introspect.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define REQUESTS 100
#define SLOW 50
#define LOCKED 70

static introspect_pool *g_pool;
static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_pool_cv = PTHREAD_COND_INITIALIZER;
static int g_free_conns = 1;
static pthread_mutex_t g_shared = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_hog_go, g_hog_has, g_locker_go, g_locker_has;
static int g_port;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Take the pool's one connection, waiting while another holds it. */
__attribute__((noinline)) static void pool_get(void)
{
    int64_t t = introspect_pool_acquire_start(g_pool);
    pthread_mutex_lock(&g_pool_lock);
    while (g_free_conns == 0)
        pthread_cond_wait(&g_pool_cv, &g_pool_lock);
    g_free_conns--;
    pthread_mutex_unlock(&g_pool_lock);
    introspect_pool_acquire_end(g_pool, t, INTROSPECT_POOL_GOT, INTROSPECT_POOL_WAIT_AUTO);
}

/* The release is reported before the connection is handed back: reported
 * after, a waiter woken by the signal could report its acquire first, and
 * the pool's in-use counter would read 2 of 1 for a moment. */
__attribute__((noinline)) static void pool_put(void)
{
    introspect_pool_release(g_pool);
    pthread_mutex_lock(&g_pool_lock);
    g_free_conns++;
    pthread_cond_signal(&g_pool_cv);
    pthread_mutex_unlock(&g_pool_lock);
}

static void *hog(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_hog_go))
        sleep_ms(1);
    pool_get();
    atomic_store(&g_hog_has, 1);
    sleep_ms(60);
    pool_put();
    return NULL;
}

static void *locker(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_locker_go))
        sleep_ms(1);
    pthread_mutex_lock(&g_shared);
    atomic_store(&g_locker_has, 1);
    sleep_ms(20);
    pthread_mutex_unlock(&g_shared);
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < REQUESTS; i++) {
        char name[32];
        snprintf(name, sizeof name, i == SLOW ? "GET /slow/%d" : "GET /item/%d", i);
        if (i == SLOW) { /* starve the pool first */
            atomic_store(&g_hog_go, 1);
            while (!atomic_load(&g_hog_has))
                sleep_ms(1);
        }
        if (i == LOCKED) {
            atomic_store(&g_locker_go, 1);
            while (!atomic_load(&g_locker_has))
                sleep_ms(1);
        }
        introspect_task *t;
        ASSERT_OK(introspect_task_begin("request", name, 500000000, &t));
        ASSERT_OK(introspect_task_bind_thread(t, 1));
        pool_get();
        if (i == LOCKED) {
            pthread_mutex_lock(&g_shared);
            pthread_mutex_unlock(&g_shared);
        }
        sleep_ms(1);
        pool_put();
        ASSERT_OK(introspect_task_set_state(t, "200"));
        ASSERT_OK(introspect_task_end(t));
    }
    return NULL;
}

static struct http_reply g_trace;
static atomic_int g_fetch_done;

/* GET a trace into g_trace; a 409 (the probe of wait_for_trace won the
 * slot) is retried. */
static void *fetch_trace(void *arg)
{
    for (;;) {
        ASSERT_EQ(http_get(g_port, (const char *)arg, &g_trace), 0);
        if (g_trace.status != 409 || arg == NULL)
            break;
        http_reply_free(&g_trace);
        sleep_ms(100);
    }
    atomic_store(&g_fetch_done, 1);
    return NULL;
}

/* Until a second trace is refused (409): the first holds its slot and
 * records (0). -1 when the first one was answered before a probe saw it
 * running (a slow machine, TSan): its window is gone, the caller starts
 * another (probing on forever then hung until the watchdog). */
static int wait_for_trace(int port)
{
    while (!atomic_load(&g_fetch_done)) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, "/debug/pprof/trace?seconds=1&hz=1&cpu_hz=0", &r), 0);
        int st = r.status;
        http_reply_free(&r);
        if (st == 409) {
            sleep_ms(100);
            return 0;
        }
        ASSERT(st == 200); /* the probe ran first (ours retries on 409) */
        sleep_ms(50);
    }
    return -1;
}

static const char *check_script(const char *name)
{
    static char path[1024];
    const char *src = getenv("IX_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/trace/%s", src ? src : ".", name);
    return path;
}

/* Validate trace r (saved as tag) with a checker script (check_trace.py for
 * the JSON, check_perfetto.py for the protobuf) and its extra arguments
 * (the scenario checks); fails the test with its output, skips on 77. */
#define CHECK_TRACE(r, tag, ...) check_trace(__FILE__, __LINE__, "check_trace.py", (r), (tag), __VA_ARGS__)
#define CHECK_PERFETTO(r, tag, ...) check_trace(__FILE__, __LINE__, "check_perfetto.py", (r), (tag), __VA_ARGS__)
__attribute__((format(printf, 6, 7))) static void check_trace(const char *file, int line,
                                                              const char *script,
                                                              const struct http_reply *r,
                                                              const char *tag, const char *fmt,
                                                              ...)
{
    const char *path = write_temp(tag, r->body, r->body_len);
    char args[1024], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "python3 %s %s %s 2>&1", check_script(script), path, args);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc == 77)
        SKIP("%s", out ? out : script);
    if (rc != 0)
        ix_test_fail(file, line, "check_trace.py failed (%d):\n%s", rc, out ? out : "");
    if (getenv("IX_TEST_VERBOSE") && out)
        fputs(out, stderr);
    free(out);
}

/* Start a trace of path on its own thread (into g_trace) and wait until its
 * window is open. */
static void start_trace(pthread_t *tr, const char *path, void *(*fetch)(void *))
{
    for (;;) {
        atomic_store(&g_fetch_done, 0);
        ASSERT_EQ(pthread_create(tr, NULL, fetch ? fetch : fetch_trace, (void *)path), 0);
        if (wait_for_trace(g_port) == 0)
            return;
        pthread_join(*tr, NULL); /* answered before we saw it: again */
        http_reply_free(&g_trace);
    }
}

TEST(starved_pool_request_shows_in_trace)
{
    g_port = start_ephemeral();
    ASSERT_OK(introspect_pool_register("db", 1, &g_pool));
    ASSERT_OK(introspect_pool_conn_opened(g_pool));
    pthread_t tr, w, h, l;
    ASSERT_EQ(pthread_create(&h, NULL, hog, NULL), 0);
    ASSERT_EQ(pthread_create(&l, NULL, locker, NULL), 0);
    start_trace(&tr, "/debug/pprof/trace?seconds=2", NULL);
    ASSERT_EQ(pthread_create(&w, NULL, worker, NULL), 0);
    pthread_join(w, NULL);
    pthread_join(h, NULL);
    pthread_join(l, NULL);
    pthread_join(tr, NULL);
    ASSERT_EQ(g_trace.status, 200);
    ASSERT_STR_CONTAINS(http_header(&g_trace, "content-disposition"), "attachment");
    ASSERT_STR_CONTAINS(http_header(&g_trace, "content-type"), "application/json");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const char *mutex = ""; /* the mutex interposer is compiled out */
#else
    const char *mutex = " --mutex-task 'GET /item/70'";
#endif
    CHECK_TRACE(&g_trace, "trace.json",
                "--task 'GET /slow/50' --pool db --stack pool_get --min-wait-ms 30 --min-tasks %d%s",
                REQUESTS, mutex);
    http_reply_free(&g_trace);
}

TEST(seconds_are_bounded_like_a_cpu_profile)
{
    int port = start_ephemeral();
    static const char *const bad[] = {"/debug/pprof/trace?seconds=0", "/debug/pprof/trace?seconds=-1",
                                      "/debug/pprof/trace?seconds=abc",
                                      "/debug/pprof/trace?seconds=999999",
                                      "/debug/pprof/trace?hz=0", "/debug/pprof/trace?format=proto",
                                      "/debug/pprof/trace?cpu_hz=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, bad[i], &r), 0);
        ASSERT_EQ(r.status, 400);
        ASSERT(strchr(r.body, '\n') == NULL || strchr(r.body, '\n')[1] == '\0'); /* one line */
        http_reply_free(&r);
    }
}

TEST(one_trace_at_a_time)
{
    g_port = start_ephemeral();
    pthread_t tr;
    start_trace(&tr, "/debug/pprof/trace?seconds=4", NULL);
    struct http_reply r;
    ASSERT_EQ(http_get(g_port, "/debug/pprof/trace?seconds=1", &r), 0);
    ASSERT_EQ(r.status, 409);
    ASSERT(http_header(&r, "retry-after") != NULL);
    http_reply_free(&r);
    pthread_join(tr, NULL);
    ASSERT_EQ(g_trace.status, 200);
    /* The default (1 s) trace of an idle process validates too. */
    CHECK_TRACE(&g_trace, "idle.json", "%s", "");
    http_reply_free(&g_trace);
    ASSERT_EQ(http_get(g_port, "/debug/pprof/trace", &r), 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
}

static long json_number(const char *body, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(body, k);
    if (!p)
        ix_test_fail(__FILE__, __LINE__, "no %s in the trace's otherData", key);
    return atol(p + strlen(k));
}

/* A 1 s trace gives each thread a ring of 16,384 records. This thread
 * begins and ends tasks until the trace has been answered (millions of
 * events in the window): its ring fills, the rest are dropped and counted
 * in otherData, and the trace is still whole, valid JSON. */
static atomic_int g_trace_done;

static void *fetch_trace_then_flag(void *arg)
{
    fetch_trace(arg);
    atomic_store(&g_trace_done, 1);
    return NULL;
}

TEST(full_ring_drops_are_counted)
{
    g_port = start_ephemeral();
    pthread_t tr;
    ASSERT_EQ(pthread_create(&tr, NULL, fetch_trace_then_flag, "/debug/pprof/trace?seconds=1"), 0);
    long tasks = 0;
    while (!atomic_load(&g_trace_done)) {
        for (int i = 0; i < 1000; i++, tasks++) {
            introspect_task *t;
            ASSERT_OK(introspect_task_begin("burst", "x", 0, &t));
            ASSERT_OK(introspect_task_end(t));
        }
    }
    pthread_join(tr, NULL);
    ASSERT_EQ(g_trace.status, 200);
    long dropped = json_number(g_trace.body, "dropped_events");
    long recorded = json_number(g_trace.body, "recorded_events");
    ASSERT_EQ(recorded, 16384); /* this thread's full ring; no other thread records */
    ASSERT_GT(dropped, 0);
    ASSERT_LE(recorded + dropped, 2 * tasks);
    CHECK_TRACE(&g_trace, "full.json", "%s", "");
    http_reply_free(&g_trace);
}

/* A task begun on one thread and ended on another (bound there first)
 * shows as a span on each thread with a flow arrow between them; a task
 * begun before the trace keeps its name (from the registry's snapshot). */
static introspect_task *g_moving;

static void *second_thread(void *arg)
{
    (void)arg;
    ASSERT_OK(introspect_task_bind_thread(g_moving, 1));
    sleep_ms(5);
    ASSERT_OK(introspect_task_end(g_moving));
    return NULL;
}

TEST(task_moving_threads_draws_a_flow)
{
    g_port = start_ephemeral();
    introspect_task *early;
    ASSERT_OK(introspect_task_begin("job", "early job", 0, &early));
    pthread_t tr, b;
    start_trace(&tr, "/debug/pprof/trace?seconds=2", NULL);
    ASSERT_OK(introspect_task_begin("job", "moving job", 0, &g_moving));
    ASSERT_OK(introspect_task_bind_thread(g_moving, 1));
    sleep_ms(5);
    ASSERT_EQ(pthread_create(&b, NULL, second_thread, NULL), 0);
    pthread_join(b, NULL);
    ASSERT_OK(introspect_task_end(early));
    pthread_join(tr, NULL);
    ASSERT_EQ(g_trace.status, 200);
    CHECK_TRACE(&g_trace, "moves.json", "--flow-task 'moving job' --early-task 'early job'");
    http_reply_free(&g_trace);
}

/* CPU samples: a thread that burns CPU in a function of its own shows
 * samples on its own lane with that function in their stacks, and no other
 * lane has it. At the default 100 Hz a thread that runs the whole 2 s
 * window would give ~200 samples; on a 2-core machine shared with other
 * work it may get far less CPU, so at least 5 are asked for (5% of its
 * fair share of one core). The burner runs until the trace is answered. */
static atomic_int g_burner_tid, g_burn_stop;

__attribute__((noinline)) static unsigned long burn_distinctive_cpu(void)
{
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&g_burn_stop, memory_order_relaxed))
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i * 2654435761u;
    return x;
}

static void *burner(void *arg)
{
    (void)arg;
    atomic_store(&g_burner_tid, (int)syscall(SYS_gettid));
    burn_distinctive_cpu();
    return NULL;
}

TEST(cpu_samples_on_the_burning_thread)
{
    g_port = start_ephemeral();
    atomic_store(&g_burn_stop, 0);
    pthread_t tr, b;
    ASSERT_EQ(pthread_create(&b, NULL, burner, NULL), 0);
    while (!atomic_load(&g_burner_tid))
        sleep_ms(1);
    start_trace(&tr, "/debug/pprof/trace?seconds=2", NULL);
    pthread_join(tr, NULL);
    atomic_store(&g_burn_stop, 1);
    pthread_join(b, NULL);
    ASSERT_EQ(g_trace.status, 200);
    ASSERT_GT(json_number(g_trace.body, "cpu_samples"), 0);
    ASSERT_EQ(json_number(g_trace.body, "cpu_hz"), 100);
    CHECK_TRACE(&g_trace, "cpu.json", "--cpu-func burn_distinctive_cpu --cpu-tid %d --min-cpu-samples 5",
                atomic_load(&g_burner_tid));
    http_reply_free(&g_trace);
    /* cpu_hz=0 takes none, and says so. */
    start_trace(&tr, "/debug/pprof/trace?seconds=1&cpu_hz=0", NULL);
    pthread_join(tr, NULL);
    ASSERT_EQ(g_trace.status, 200);
    ASSERT_EQ(json_number(g_trace.body, "cpu_samples"), 0);
    ASSERT_STR_CONTAINS(g_trace.body, "no CPU samples: cpu_hz=0");
    CHECK_TRACE(&g_trace, "nocpu.json", "%s", "");
    http_reply_free(&g_trace);
}

/* ?format=perfetto: the same window as Perfetto's protobuf, decoded by the
 * real protoc against tests/trace/perfetto_subset.proto and checked by
 * check_perfetto.py: tracks, balanced slices, counters, the moving task's
 * slices on two threads with a flow between them, and the burner's CPU
 * samples (with callstacks) on its own thread track (at least 5: see
 * cpu_samples_on_the_burning_thread for the band). */
TEST(perfetto_format_decodes_with_protoc)
{
    g_port = start_ephemeral();
    atomic_store(&g_burn_stop, 0);
    atomic_store(&g_burner_tid, 0);
    pthread_t tr, b, mover;
    ASSERT_EQ(pthread_create(&b, NULL, burner, NULL), 0);
    while (!atomic_load(&g_burner_tid))
        sleep_ms(1);
    start_trace(&tr, "/debug/pprof/trace?seconds=2&format=perfetto", NULL);
    ASSERT_OK(introspect_task_begin("job", "moving job", 0, &g_moving));
    ASSERT_OK(introspect_task_bind_thread(g_moving, 1));
    sleep_ms(5);
    ASSERT_EQ(pthread_create(&mover, NULL, second_thread, NULL), 0);
    pthread_join(mover, NULL);
    pthread_join(tr, NULL);
    atomic_store(&g_burn_stop, 1);
    pthread_join(b, NULL);
    ASSERT_EQ(g_trace.status, 200);
    ASSERT_STR_CONTAINS(http_header(&g_trace, "content-disposition"), "trace.pftrace");
    CHECK_PERFETTO(&g_trace, "trace.pftrace",
                   "--flow-task 'moving job' --cpu-func burn_distinctive_cpu --cpu-tid %d "
                   "--min-cpu-samples 5",
                   atomic_load(&g_burner_tid));
    http_reply_free(&g_trace);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(task_moving_threads_draws_a_flow),
    TEST_ENTRY(full_ring_drops_are_counted),
    TEST_ENTRY(starved_pool_request_shows_in_trace),
    TEST_ENTRY(seconds_are_bounded_like_a_cpu_profile),
    TEST_ENTRY(one_trace_at_a_time),
    TEST_ENTRY(cpu_samples_on_the_burning_thread),
    TEST_ENTRY(perfetto_format_decodes_with_protoc),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
