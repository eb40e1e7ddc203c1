/* PostgreSQL connections through libpq (blocking API; one thread per
 * connection at a time, which libpq allows). */
#include "driver.h"

#ifdef PGPOOL_HAVE_PQ
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

static void *pq_connect(const char *dsn, char *why, size_t whylen)
{
    PGconn *c = PQconnectdb(dsn);
    if (!c) {
        snprintf(why, whylen, "libpq: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(why, whylen, "libpq: %s", PQerrorMessage(c));
        why[strcspn(why, "\n")] = '\0';
        PQfinish(c);
        return NULL;
    }
    return c;
}

static void pq_disconnect(void *h) { PQfinish(h); }

static int pq_query(void *h, const char *sql, char *out, size_t outlen)
{
    PGresult *r = PQexec(h, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        const char *v = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        snprintf(out, outlen, "%s", v);
    } else {
        snprintf(out, outlen, "%s", PQerrorMessage(h));
        out[strcspn(out, "\n")] = '\0';
        rc = PQstatus(h) == CONNECTION_OK ? -1 : 1;
    }
    PQclear(r);
    return rc;
}

static int pq_ping(void *h)
{
    char tmp[64];
    return pq_query(h, "SELECT 1", tmp, sizeof tmp) == 0 ? 0 : -1;
}

static const struct pgpool_driver pq = {"postgresql", pq_connect, pq_disconnect, pq_ping, pq_query};
const struct pgpool_driver *const pgpool_driver_pq = &pq;
#else
const struct pgpool_driver *const pgpool_driver_pq = NULL;
#endif
