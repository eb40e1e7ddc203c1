/* An elastic pool of handler threads. libmicrohttpd's event loop only does
 * I/O; every request runs on a worker, so a 30-second CPU profile occupies
 * one worker and idle keep-alive sockets occupy none. The pool grows on
 * demand up to a cap (a thread is created only when no worker is idle) and
 * keeps its threads until stopped. */
#ifndef IX_WORKERS_H
#define IX_WORKERS_H

#include <stddef.h>

struct ix_workers;
typedef void (*ix_job_fn)(void *arg);

/* max_threads >= 1; stack_size 0 = default. Returns NULL on failure. */
struct ix_workers *ix_workers_new(unsigned max_threads, size_t stack_size);
/* Run fn(arg) on a worker: an idle one, a new one, or (at the cap) the next
 * one to finish. Returns 0, INTROSPECT_ENOMEM, INTROSPECT_ENOTSTARTED (stopping) or
 * INTROSPECT_ESYS (no thread could be created). */
int ix_workers_submit(struct ix_workers *w, ix_job_fn fn, void *arg);
/* Wait until every submitted job has finished (new ones may still arrive). */
void ix_workers_drain(struct ix_workers *w);
/* Finish queued jobs, join every thread and free. */
void ix_workers_free(struct ix_workers *w);
/* Threads currently in the pool (for tests and /debug/vars). */
unsigned ix_workers_threads(struct ix_workers *w);

#endif
