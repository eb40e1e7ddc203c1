/* The demo server: a small multi-threaded HTTP service that embeds
 * introspect. Routes live in tables (one file per feature area); demo.c
 * serves them, records per-route latency and status classes, and can
 * generate its own traffic so profiles and charts have something to show. */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <introspect.h>

struct demo_request {
    const char *path;
    const char *(*arg)(const struct demo_request *r, const char *name);
    void *conn;
};

struct demo_reply {
    int status;
    char body[4096];
};

struct demo_route {
    const char *path;
    const char *summary; /* shown on the demo's index page */
    void (*handler)(const struct demo_request *req, struct demo_reply *rep);
};

/* Route tables, each ended by {NULL}. Add a table here and in demo.c. */
extern const struct demo_route demo_core_routes[];
extern const struct demo_route demo_db_routes[];

/* The database pool (demo_db.c): dsn NULL/"" uses DEMO_DSN, else SQLite;
 * background starts a few clients sharing the small pool. */
int demo_db_start(const char *dsn, int background);
void demo_db_stop(void);

extern const struct demo_route demo_task_routes[];

/* Tasks (demo_tasks.c): each request is a task; init runs before introspect_start. */
void demo_tasks_init(void);
/* The deadline of every request (the request API makes each one a task). */
int64_t demo_request_deadline_ns(void);
/* The request the calling thread is serving (NULL outside a request). */
introspect_request *demo_current_request(void);

/* Long integer query argument, clamped to [lo, hi]. */
long demo_arg_long(const struct demo_request *req, const char *name, long def, long lo, long hi);
void demo_reply_text(struct demo_reply *rep, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
