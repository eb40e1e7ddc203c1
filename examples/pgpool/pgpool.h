/* pgpool: a small thread-safe database connection pool over libpq, with an
 * embedded SQLite back end of the same shape when no PostgreSQL connection
 * string is given. It is an example of a real pool instrumented with
 * introspect's pool API (acquire waits, timeouts, lifetime and idle closes,
 * the block profile); it is not part of the introspect library.
 *
 *   struct pgpool_config c;
 *   pgpool_config_init(&c);
 *   c.dsn = getenv("DATABASE_URL");          // NULL/"" -> SQLite
 *   struct pgpool *p;
 *   pgpool_open(&c, &p, why, sizeof why);
 *   struct pgpool_conn *conn;
 *   if (pgpool_acquire(p, 1000, &conn) == PGPOOL_OK) {
 *       pgpool_query(conn, "SELECT 1", out, sizeof out);
 *       pgpool_release(p, conn, 0);
 *   }
 *   pgpool_close(p);
 */
#ifndef PGPOOL_H
#define PGPOOL_H

#include <stddef.h>

enum {
    PGPOOL_OK = 0,
    PGPOOL_TIMEOUT = -1, /* no connection became free within the timeout */
    PGPOOL_CLOSED = -2,  /* the pool is closing: the acquire was cancelled */
    PGPOOL_ERROR = -3,   /* a connection could not be opened, or bad arguments */
};

struct pgpool_config {
    const char *name;             /* pool name in introspect; default "db" */
    const char *dsn;              /* libpq conninfo or URI; NULL or "" = embedded SQLite */
    const char *sqlite_path;      /* SQLite database; default a shared in-memory one */
    int max_open;                 /* connections at most; default 4 */
    int max_idle;                 /* idle connections kept; default max_open */
    long max_lifetime_ms;         /* close connections older than this; 0 = never */
    long max_idle_time_ms;        /* close connections idle longer than this; 0 = never */
    long health_check_idle_ms;    /* ping a connection idle longer than this before
                                     handing it out; default 30000, < 0 = never */
};

struct pgpool;
struct pgpool_conn;

void pgpool_config_init(struct pgpool_config *c);
/* Open a pool (connections are opened on demand). On failure returns
 * PGPOOL_ERROR and writes a reason into why. */
int pgpool_open(const struct pgpool_config *c, struct pgpool **out, char *why, size_t whylen);
/* Take a connection, waiting up to timeout_ms for one (< 0: forever, 0: do
 * not wait). Returns PGPOOL_OK with *out set, PGPOOL_TIMEOUT, PGPOOL_CLOSED
 * or PGPOOL_ERROR. */
int pgpool_acquire(struct pgpool *p, long timeout_ms, struct pgpool_conn **out);
/* Give a connection back; broken != 0 closes it (e.g. after a query said so). */
void pgpool_release(struct pgpool *p, struct pgpool_conn *c, int broken);
/* Run sql; the first column of the first row (or "" when none) goes to out.
 * Returns 0, -1 on a query error (message in out), 1 when the connection is
 * broken (release it with broken = 1). */
int pgpool_query(struct pgpool_conn *c, const char *sql, char *out, size_t outlen);
/* "postgresql" or "sqlite". */
const char *pgpool_backend(const struct pgpool *p);
/* Close the pool: waiting acquires return PGPOOL_CLOSED, idle connections are
 * closed, and the call waits until every connection handed out is released. */
void pgpool_close(struct pgpool *p);

#endif
