/* A real pool (examples/pgpool) under load, seen through introspect:
 *
 *   test_pool_workload postgres   needs IX_PG_DSN (tests/pools/with_postgres.sh
 *                                 starts a server); fails when it is missing
 *   test_pool_workload sqlite     the embedded SQLite fallback, same checks
 *
 * 8 workers share a pool of 2 running SELECT pg_sleep(0.05): they must wait;
 * WaitCount equals the histogram's count; in-use never exceeds the maximum
 * (watched live over HTTP and by the workers themselves); the block profile
 * names the worker (go tool pprof); a timed-out acquire, a cancelled one, an
 * idle-time, lifetime and max-idle close and (PostgreSQL) a failed health
 * check are each counted; /metrics passes promtool. */
#include <introspect.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pgpool.h"
#include "pool_check.h"

#define WORKERS 8
#define POOL_SIZE 2
#define ITERATIONS 6

static const char *g_dsn; /* NULL: SQLite */
static int g_port;
static struct pgpool *g_pool;
static atomic_int g_holding, g_holding_max, g_errors, g_done;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct pgpool *open_pool(const char *name, int max_open, int max_idle, long lifetime_ms,
                                long idle_ms, long health_ms)
{
    struct pgpool_config c;
    pgpool_config_init(&c);
    c.name = name;
    c.dsn = g_dsn;
    c.max_open = max_open;
    c.max_idle = max_idle;
    c.max_lifetime_ms = lifetime_ms;
    c.max_idle_time_ms = idle_ms;
    c.health_check_idle_ms = health_ms;
    struct pgpool *p;
    char why[256] = "";
    if (pgpool_open(&c, &p, why, sizeof why) != PGPOOL_OK) {
        fprintf(stderr, "pgpool_open(%s): %s\n", name, why);
        exit(1);
    }
    return p;
}

static void query_ok(struct pgpool_conn *c, const char *sql, char *out, size_t n)
{
    int rc = pgpool_query(c, sql, out, n);
    if (rc != 0) {
        fprintf(stderr, "query \"%s\" failed (%d): %s\n", sql, rc, out);
        exit(1);
    }
}

/* The function the block profile must point at. */
__attribute__((noinline)) void *pool_test_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERATIONS; i++) {
        struct pgpool_conn *c;
        if (pgpool_acquire(g_pool, 20000, &c) != PGPOOL_OK) {
            atomic_fetch_add(&g_errors, 1);
            continue;
        }
        int now = atomic_fetch_add(&g_holding, 1) + 1;
        int max = atomic_load(&g_holding_max);
        while (now > max && !atomic_compare_exchange_weak(&g_holding_max, &max, now))
            ;
        char out[256];
        if (pgpool_query(c, "SELECT pg_sleep(0.05)", out, sizeof out) != 0) {
            fprintf(stderr, "worker query: %s\n", out);
            atomic_fetch_add(&g_errors, 1);
        }
        atomic_fetch_sub(&g_holding, 1);
        pgpool_release(g_pool, c, 0);
    }
    return NULL;
}

/* A number following "field": inside the object of key "pool" in body. */
static long long json_field(const char *body, const char *pool, const char *field)
{
    char k[128];
    snprintf(k, sizeof k, "\"%s\":", pool);
    const char *p = strstr(body, k);
    ASSERT(p);
    snprintf(k, sizeof k, "\"%s\":", field);
    p = strstr(p, k);
    ASSERT(p);
    return strtoll(p + strlen(k), NULL, 10);
}

/* Polls /debug/vars while the workers run: the live view must respect max. */
static void *watcher(void *arg)
{
    int *polls = arg;
    while (!atomic_load(&g_done)) {
        struct http_reply r;
        ASSERT_EQ(http_get(g_port, "/debug/vars", &r), 0);
        ASSERT_EQ(r.status, 200);
        long long in_use = json_field(r.body, "work", "InUse");
        long long open = json_field(r.body, "work", "OpenConnections");
        if (in_use > POOL_SIZE || open > POOL_SIZE) {
            fprintf(stderr, "live view over the limit: InUse %lld, Open %lld\n", in_use, open);
            exit(1);
        }
        http_reply_free(&r);
        (*polls)++;
        sleep_ms(5);
    }
    return NULL;
}

static void test_contention(void)
{
    g_pool = open_pool("work", POOL_SIZE, 0, 0, 0, 30000);
    pthread_t w[WORKERS], watch;
    int polls = 0;
    ASSERT_EQ(pthread_create(&watch, NULL, watcher, &polls), 0);
    for (int i = 0; i < WORKERS; i++)
        ASSERT_EQ(pthread_create(&w[i], NULL, pool_test_worker, NULL), 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&g_done, 1);
    pthread_join(watch, NULL);
    ASSERT_EQ(atomic_load(&g_errors), 0);
    ASSERT(atomic_load(&g_holding_max) <= POOL_SIZE);
    ASSERT_GT(polls, 0);

    vars_assert(g_port, "work",
                "p['Acquires']==48 and p['WaitCount']>0 and "
                "p['WaitCount']==p['WaitHistogram']['count']==sum(p['WaitHistogram']['counts']) and "
                "p['WaitDuration']>0 and p['InUsePeak']==2 and p['MaxOpenConnections']==2 and "
                "p['OpenConnections']<=2 and p['InUse']==0 and p['Opened']==2 and p['Pending']==0");
    printf("waits: %lld of 48 acquires, %lld ms waited in total\n",
           vars_eval(g_port, "work", "p['WaitCount']"),
           vars_eval(g_port, "work", "p['WaitDuration']/1e6"));

    /* /metrics agrees with /debug/vars. */
    char *m = metrics_body(g_port), line[160];
    snprintf(line, sizeof line, "introspect_pool_wait_seconds_count{pool=\"work\"} %lld\n",
             vars_eval(g_port, "work", "p['WaitCount']"));
    ASSERT_STR_CONTAINS(m, line);
    snprintf(line, sizeof line, "introspect_pool_waits_total{pool=\"work\"} %lld\n",
             vars_eval(g_port, "work", "p['WaitCount']"));
    ASSERT_STR_CONTAINS(m, line);
    ASSERT_STR_CONTAINS(m, "introspect_pool_acquires_total{pool=\"work\"} 48\n");
    free(m);

    char *top = pprof_url(g_port, "-top -nodefraction=0 -sample_index=delay", "/debug/pprof/block");
    ASSERT_STR_CONTAINS(top, "pool_test_worker");
    ASSERT_STR_CONTAINS(top, "pgpool_acquire");
    free(top);
}

static void test_timeout(void)
{
    struct pgpool_conn *a, *b, *c;
    ASSERT_EQ(pgpool_acquire(g_pool, 1000, &a), PGPOOL_OK);
    ASSERT_EQ(pgpool_acquire(g_pool, 1000, &b), PGPOOL_OK);
    ASSERT_EQ(pgpool_acquire(g_pool, 100, &c), PGPOOL_TIMEOUT);
    ASSERT_EQ(pgpool_acquire(g_pool, 0, &c), PGPOOL_TIMEOUT); /* no wait at all */
    pgpool_release(g_pool, a, 0);
    pgpool_release(g_pool, b, 0);
    /* Both timed out; only the one that blocked counts as a wait. */
    vars_assert(g_port, "work",
                "p['Timeouts']==2 and p['WaitCount']==p['WaitHistogram']['count'] and "
                "p['InUse']==0");
    char *m = metrics_body(g_port);
    ASSERT_STR_CONTAINS(m, "introspect_pool_timeouts_total{pool=\"work\"} 2\n");
    free(m);
}

static void wait_for(const char *pool, const char *expr)
{
    char code[256];
    snprintf(code, sizeof code, "1 if (%s) else 0", expr);
    for (int i = 0; i < 200; i++) { /* up to ~10 s on a loaded box */
        if (vars_eval(g_port, pool, code))
            return;
        sleep_ms(50);
    }
    vars_assert(g_port, pool, expr); /* prints the object */
}

static void test_closes(void)
{
    struct pgpool_conn *a, *b;
    /* Idle time: the janitor closes a connection idle for 100 ms. */
    struct pgpool *idle = open_pool("idle", 2, 0, 0, 100, 30000);
    ASSERT_EQ(pgpool_acquire(idle, 1000, &a), PGPOOL_OK);
    pgpool_release(idle, a, 0);
    wait_for("idle", "p['MaxIdleTimeClosed']==1 and p['OpenConnections']==0");

    /* Lifetime: released after its lifetime, it is closed, not kept. */
    struct pgpool *life = open_pool("life", 2, 0, 100, 0, 30000);
    ASSERT_EQ(pgpool_acquire(life, 1000, &a), PGPOOL_OK);
    sleep_ms(150);
    pgpool_release(life, a, 0);
    wait_for("life", "p['MaxLifetimeClosed']==1 and p['OpenConnections']==0");

    /* Max idle 1: the second connection released is one too many. */
    struct pgpool *mi = open_pool("maxidle", 2, 1, 0, 0, 30000);
    ASSERT_EQ(pgpool_acquire(mi, 1000, &a), PGPOOL_OK);
    ASSERT_EQ(pgpool_acquire(mi, 1000, &b), PGPOOL_OK);
    pgpool_release(mi, a, 0);
    pgpool_release(mi, b, 0);
    vars_assert(g_port, "maxidle", "p['MaxIdleClosed']==1 and p['OpenConnections']==1");

    /* A connection the query reports broken is closed with reason error. */
    ASSERT_EQ(pgpool_acquire(mi, 1000, &a), PGPOOL_OK);
    pgpool_release(mi, a, 1);
    vars_assert(g_port, "maxidle", "p['ErrorClosed']==1 and p['OpenConnections']==0");
    pgpool_close(idle);
    pgpool_close(life);
    pgpool_close(mi);
}

/* PostgreSQL only: a backend killed while idle fails the health check on the
 * next acquire; the pool closes it (error) and opens a fresh one. */
static void test_health_check(void)
{
    struct pgpool *h = open_pool("health", 1, 0, 0, 0, 0 /* always ping */);
    struct pgpool_conn *a, *k;
    char pid[64], out[256];
    ASSERT_EQ(pgpool_acquire(h, 1000, &a), PGPOOL_OK);
    query_ok(a, "SELECT pg_backend_pid()", pid, sizeof pid);
    pgpool_release(h, a, 0);
    ASSERT_EQ(pgpool_acquire(g_pool, 1000, &k), PGPOOL_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)", pid);
    query_ok(k, sql, out, sizeof out);
    ASSERT_STR_CONTAINS(out, "t");
    pgpool_release(g_pool, k, 0);
    sleep_ms(100);
    ASSERT_EQ(pgpool_acquire(h, 5000, &a), PGPOOL_OK);
    query_ok(a, "SELECT 1", out, sizeof out);
    pgpool_release(h, a, 0);
    vars_assert(g_port, "health", "p['ErrorClosed']==1 and p['Opened']==2 and p['Acquires']==2");
    pgpool_close(h);
}

static struct pgpool *g_cancel_pool;

static void *cancel_waiter(void *arg)
{
    struct pgpool_conn *c;
    *(int *)arg = pgpool_acquire(g_cancel_pool, -1, &c);
    return NULL;
}

static void *closer(void *arg)
{
    (void)arg;
    pgpool_close(g_cancel_pool);
    return NULL;
}

/* Closing the pool cancels a waiting acquire. */
static void test_cancel(void)
{
    g_cancel_pool = open_pool("cancel", 1, 0, 0, 0, 30000);
    struct pgpool_conn *held;
    ASSERT_EQ(pgpool_acquire(g_cancel_pool, 1000, &held), PGPOOL_OK);
    int rc = 99;
    pthread_t w, c;
    ASSERT_EQ(pthread_create(&w, NULL, cancel_waiter, &rc), 0);
    wait_for("cancel", "p['Pending']==1");
    sleep_ms(20); /* let it block on the condition variable */
    ASSERT_EQ(pthread_create(&c, NULL, closer, NULL), 0);
    pthread_join(w, NULL);
    ASSERT_EQ(rc, PGPOOL_CLOSED);
    vars_assert(g_port, "cancel", "p['Cancelled']==1 and p['WaitCount']==1 and p['InUse']==1");
    pgpool_release(g_cancel_pool, held, 0); /* lets the close finish */
    pthread_join(c, NULL);
    /* Closed pools leave /debug/vars. */
    vars_assert(g_port, "work", "'cancel' not in d['pools']");
}

int main(int argc, char **argv)
{
    alarm(200); /* watchdog: a hang fails the test */
    if (argc != 2 || (strcmp(argv[1], "postgres") && strcmp(argv[1], "sqlite"))) {
        fprintf(stderr, "usage: %s postgres|sqlite\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "postgres") == 0) {
        g_dsn = getenv("IX_PG_DSN");
        if (!g_dsn || !*g_dsn) {
            fprintf(stderr, "FAIL: IX_PG_DSN is not set: run through tests/pools/with_postgres.sh\n");
            return 1;
        }
    }
    g_port = start_ephemeral();
    test_contention();
    test_timeout();
    test_closes();
    if (g_dsn)
        test_health_check();
    test_cancel();
    promtool_check(g_port);
    pgpool_close(g_pool);
    ASSERT_EQ(introspect_stop(), 0);
    printf("ok (%s)\n", argv[1]);
    return 0;
}
