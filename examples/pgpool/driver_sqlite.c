/* The embedded default: SQLite handles in the same pool shape, so the demo
 * and tests run with nothing else installed. A pg_sleep(seconds) SQL
 * function is registered on every handle so the same queries work on both
 * back ends. */
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "driver.h"

static void sql_pg_sleep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double s = sqlite3_value_double(argv[0]);
    if (s > 0 && s < 3600) {
        struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    sqlite3_result_null(ctx);
}

static void *lite_connect(const char *path, char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "pg_sleep", 1, SQLITE_UTF8, NULL, sql_pg_sleep, NULL,
                                     NULL);
    if (rc != SQLITE_OK) {
        snprintf(why, whylen, "sqlite: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void lite_disconnect(void *h) { sqlite3_close(h); }

static int lite_query(void *h, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        const unsigned char *v = NULL;
        if (rc == SQLITE_ROW && sqlite3_column_count(st) > 0)
            v = sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", v ? (const char *)v : "");
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        snprintf(out, outlen, "%s", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_OK ? 0 : -1;
}

static int lite_ping(void *h)
{
    char tmp[16];
    return lite_query(h, "SELECT 1", tmp, sizeof tmp) == 0 ? 0 : -1;
}

const struct pgpool_driver pgpool_driver_sqlite = {"sqlite", lite_connect, lite_disconnect,
                                                   lite_ping, lite_query};
