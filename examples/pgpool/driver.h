/* The back ends pgpool can hold connections of. Each connection is used by
 * one thread at a time (the pool guarantees it), so drivers need no locks. */
#ifndef PGPOOL_DRIVER_H
#define PGPOOL_DRIVER_H

#include <stddef.h>

struct pgpool_driver {
    const char *name;
    /* Open one connection; NULL with a reason in why on failure. */
    void *(*connect)(const char *target, char *why, size_t whylen);
    void (*disconnect)(void *h);
    /* 0 when the connection answers a trivial query. */
    int (*ping)(void *h);
    /* As pgpool_query: 0, -1 query error, 1 connection broken. */
    int (*query)(void *h, const char *sql, char *out, size_t outlen);
};

/* NULL when the build has no libpq. */
extern const struct pgpool_driver *const pgpool_driver_pq;
extern const struct pgpool_driver pgpool_driver_sqlite;

#endif
