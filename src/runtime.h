/* Process-wide state of the running module (one server per process), as
 * every layer may read it. Knows nothing of HTTP: a wait is cancelled through
 * util/cancel.h, which an endpoint fills from its request. */
#ifndef IX_RUNTIME_H
#define IX_RUNTIME_H

#include "config.h"
#include "util/cancel.h"
#include "util/clock.h"

/* The effective config while running; NULL when stopped. */
const struct ix_config *ix_running_config(void);
/* 1 once introspect_stop() has begun: long handlers must return early. */
int ix_stopping(void);

/* Why ix_wait_ms returned. */
enum ix_wait {
    IX_WAIT_DONE = 0,     /* the time passed */
    IX_WAIT_CANCELLED = 1, /* the cancel callback said stop (the client went away) */
    IX_WAIT_STOPPING = 2, /* the module is stopping */
    IX_WAIT_EXITING = 3,  /* the process is exiting and a capture holds the exit */
};
/* Sleep up to ms milliseconds in short steps, checking c (may be NULL) and
 * ix_stopping() between them. */
enum ix_wait ix_wait_ms(const struct ix_cancel *c, long ms);

/* A capture whose partial result is worth keeping when the process exits
 * (a tree child's CPU profile, tree/spill.h) holds the exit for its time:
 * exit(3) then wakes its waits with IX_WAIT_EXITING and waits, at most
 * IX_EXIT_HOLD_MS, for every hold to be released. The exiting thread only
 * sleeps: the capture's own thread does the work. */
#define IX_EXIT_HOLD_MS 10000
void ix_exit_hold(void);
void ix_exit_release(void);
/* 1 once an exit held by a capture has begun. */
int ix_exiting(void);

#endif
