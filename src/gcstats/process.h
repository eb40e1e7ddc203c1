/* Process figures from /proc/self: the memstats of a C process. */
#ifndef IX_PROCESS_H
#define IX_PROCESS_H

#include <stdint.h>
#include "util/buf.h"

struct ix_process_stats {
    uint64_t rss_bytes, peak_rss_bytes, virtual_bytes;
    uint64_t threads;
    uint64_t open_fds, max_fds;
    uint64_t minor_faults, major_faults;
    double user_cpu_seconds, system_cpu_seconds;
    double start_time_seconds; /* since the epoch */
    double uptime_seconds;
};

/* Returns 0, or INTROSPECT_ESYS (/proc unreadable) or INTROSPECT_EINVAL (its
 * stat line not understood); the fields are then partly zero. */
int ix_process_stats_read(struct ix_process_stats *st);
/* Append /proc/self/cmdline (NUL-separated, as is) to out. */
int ix_read_cmdline(ix_buf *out);

#endif
