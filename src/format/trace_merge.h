/* A process tree's execution trace: the JSON parts (format/trace_json.h,
 * each encoded with a struct ix_trace_json_part of the same base) of every
 * process, merged into one trace-event document. Each process keeps its
 * own pid as the events' pid, its process_name ("title (pid N)") and a
 * process_sort_index (the root first); the parts already count time from
 * the shared base and carry their pid in the ids they would otherwise
 * share (frame, async span and flow ids), so the merge is a splice:
 * events after events, frames after frames. otherData sums the counts
 * (dropped_events, cpu_samples, ...) over the parts, keeps each part's own
 * under "processes", and lists under "process_tree" the notes (processes
 * missing and why) and how many were merged.
 * The parts come from this same library (a tree's children are forks of the
 * root, exec leaves the tree), so the merge reads the encoder's layout:
 * one event per line, strings never hold a raw newline. A part that does
 * not have that layout, another pid or another base is left out and named. */
#ifndef IX_FORMAT_TRACE_MERGE_H
#define IX_FORMAT_TRACE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct ix_trace_part {
    const char *data; /* NULL: a process whose part is missing (the Perfetto merge names it) */
    size_t len;
    int pid;
    const char *title;
};

/* Merge nparts parts (the root first) of a tree of total processes whose
 * traces count from base into out, with notes (e.g. "introspect: pid N
 * (title) is missing: ...") kept in otherData. Returns the number of parts
 * merged (0 when none was readable: out then holds nothing),
 * INTROSPECT_ENOMEM out of memory. */
int ix_trace_merge(const struct ix_trace_part *parts, int nparts, int total, int64_t base,
                   const char *const *notes, int nnotes, ix_buf *out);

/* The same for Perfetto protobuf parts (format/trace_perfetto.h): each part
 * is a whole Trace whose packets are on the process's own sequence and
 * whose track uuids and flow ids carry its pid, so the merge concatenates
 * them (a Trace is its packets one after another), after checking each
 * part (its pid's sequence and process track, tree_t0_ns = base). First
 * comes an instant "process tree" on the root's process track (processes,
 * merged, the notes as note_1...) and, for each part that is missing
 * (data NULL) or could not be read, a process track named
 * "title (pid N): missing", so the UI lists it. Returns as ix_trace_merge. */
int ix_trace_merge_perfetto(const struct ix_trace_part *parts, int nparts, int total, int64_t base,
                            const char *const *notes, int nnotes, ix_buf *out);

#endif
