/* Process-wide state of the running module (one server per process). */
#ifndef IX_RUNTIME_H
#define IX_RUNTIME_H

#include "config.h"
#include "http/request.h"

/* The effective config while running; NULL when stopped. */
const struct ix_config *ix_running_config(void);
/* 1 once introspect_stop() has begun: long handlers must return early. */
int ix_stopping(void);
/* Sleep up to ms milliseconds in short steps. Returns 0 when the time passed,
 * 1 when the client went away, 2 when the module is stopping. */
int ix_wait_ms(const struct ix_request *r, long ms);
/* Seconds since the epoch when the module was loaded (process start is in gcstats). */
double ix_now(void);
/* Monotonic nanoseconds. */
long long ix_mono_ns(void);

#endif
