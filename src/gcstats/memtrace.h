/* The opt-in memstats trace (INTROSPECT_MEMTRACE / memtrace_seconds). */
#ifndef IX_MEMTRACE_H
#define IX_MEMTRACE_H

#include <stddef.h>
#include "config.h"

int ix_memtrace_start(const struct ix_config *cfg, char *why, size_t whylen);
void ix_memtrace_stop(void);
/* In a forked child: the trace thread is gone (nothing to join). */
void ix_memtrace_forked(void);
/* Format one trace line (ends with '\n'). */
void ix_memtrace_line(char *out, size_t n, double uptime);

#endif
