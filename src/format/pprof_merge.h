/* Merge profile.proto answers of several processes into one profile.
 *
 * Each part is one process's profile (gzipped or plain). Strings go into
 * one table; mappings, locations and functions keep their process apart
 * (their ids are offset per part: two processes' addresses are never the
 * same thing); every sample gets a numeric label pid and a string label
 * process (its title), so `go tool pprof -tagfocus pid=N` and `-tags` tell
 * the processes apart. The first part that decodes gives the sample types,
 * the period and the frame filters; a part with other sample types is left
 * out and named in the comments, as is one that does not decode. */
#ifndef IX_PPROF_MERGE_H
#define IX_PPROF_MERGE_H

#include <stddef.h>
#include "util/buf.h"

struct ix_pprof_part {
    const void *data;
    size_t len;
    int pid;
    const char *process; /* title; NULL: none */
    /* 1: the process answered with ?symbolize=0 and is alive: its frames in
     * files are named here, through its /proc/PID/maps (format/merge_symbols.h) */
    int symbolize_here;
};

/* Write the merged, gzipped profile into out; comments (may be NULL) are
 * added to the profile's. Returns the number of parts merged, INTROSPECT_EINVAL
 * when no part could be decoded, or INTROSPECT_ENOMEM. */
int ix_pprof_merge(const struct ix_pprof_part *parts, int n, const char *const *comments,
                   int ncomments, ix_buf *out);

#endif
