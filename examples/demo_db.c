/* The demo's database: queries through pgpool (examples/pgpool), over
 * PostgreSQL when a connection string is given (--dsn or DEMO_DSN), over an
 * embedded SQLite database otherwise. The pool is deliberately small and a
 * few background clients share it, so /debug/vars "pools", the
 * introspect_pool_* metrics and /debug/pprof/block always have waits to show. */
#include <introspect.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "demo.h"
#include "pgpool.h"

#define DB_CLIENTS 3

static struct pgpool *g_pool;
static volatile int g_stop;
static pthread_t g_clients[DB_CLIENTS];
static int g_nclients;

/* One query through the pool; the block profile shows this frame waiting. */
__attribute__((noinline)) int demo_db_query(long sleep_ms, long timeout_ms, char *out,
                                            size_t outlen)
{
    struct pgpool_conn *c;
    int rc = pgpool_acquire(g_pool, timeout_ms, &c);
    if (rc != PGPOOL_OK) {
        snprintf(out, outlen, "%s", rc == PGPOOL_TIMEOUT ? "timed out waiting for a connection"
                                    : rc == PGPOOL_CLOSED ? "pool closed"
                                                          : "cannot connect");
        return rc;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_sleep(%ld.%03ld)", sleep_ms / 1000, sleep_ms % 1000);
    int q = pgpool_query(c, sql, out, outlen);
    if (q == 0)
        q = pgpool_query(c, "SELECT 41 + 1", out, outlen);
    pgpool_release(g_pool, c, q == 1);
    return q == 0 ? 0 : PGPOOL_ERROR;
}

/* Background clients: short queries at random intervals. */
__attribute__((noinline)) void *demo_db_client(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg ^ (unsigned)time(NULL);
    while (!g_stop) {
        char out[128];
        demo_db_query(10 + rand_r(&seed) % 30, 2000, out, sizeof out);
        struct timespec ts = {0, (long)(rand_r(&seed) % 100) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int demo_db_start(const char *dsn, int background)
{
    struct pgpool_config c;
    pgpool_config_init(&c);
    c.name = "demo_db";
    c.dsn = dsn && *dsn ? dsn : getenv("DEMO_DSN");
    c.max_open = 2;
    c.max_idle_time_ms = 60000;
    c.max_lifetime_ms = 300000;
    char why[256] = "";
    if (pgpool_open(&c, &g_pool, why, sizeof why) != PGPOOL_OK) {
        fprintf(stderr, "demo: database pool: %s\n", why);
        return -1;
    }
    printf("  database:        %s pool \"demo_db\" (2 connections)%s\n", pgpool_backend(g_pool),
           c.dsn && *c.dsn ? "" : "; --dsn or DEMO_DSN for PostgreSQL");
    printf("  pool waits:      go tool pprof -top http://127.0.0.1:%d/debug/pprof/block\n",
           introspect_port());
    for (int i = 0; background && i < DB_CLIENTS; i++)
        if (pthread_create(&g_clients[g_nclients], NULL, demo_db_client, (void *)(uintptr_t)i) == 0)
            g_nclients++;
    return 0;
}

void demo_db_stop(void)
{
    g_stop = 1;
    for (int i = 0; i < g_nclients; i++)
        pthread_join(g_clients[i], NULL);
    pgpool_close(g_pool);
    g_pool = NULL;
}

static void route_db(const struct demo_request *req, struct demo_reply *rep)
{
    if (!g_pool) {
        demo_reply_text(rep, 503, "no database pool\n");
        return;
    }
    long ms = demo_arg_long(req, "ms", 20, 0, 5000);
    long timeout = demo_arg_long(req, "timeout_ms", 1000, 0, 30000);
    char out[256];
    int rc = demo_db_query(ms, timeout, out, sizeof out);
    demo_reply_text(rep, rc == 0 ? 200 : 503, "%s: %s\n", pgpool_backend(g_pool), out);
}

const struct demo_route demo_db_routes[] = {
    {"/db", "a query through the connection pool: pg_sleep(?ms=N), acquire ?timeout_ms=",
     route_db},
    {NULL, NULL, NULL},
};
