/* An execution trace (model/trace.h) as a Perfetto protobuf trace (the
 * format ui.perfetto.dev and trace_processor read natively): a Trace of
 * TracePackets, each a TrackDescriptor or a TrackEvent, no interning.
 *   - one process track (ProcessDescriptor: pid, "comm (pid N)");
 *   - per thread a thread track (ThreadDescriptor: pid, tid, name) holding
 *     its tasks and pool and mutex waits as nested SLICE_BEGIN/END pairs and
 *     its CPU samples as INSTANT events; two child tracks under it: "state"
 *     (running and blocked intervals) and "overlapping" (spans that do not
 *     nest, the JSON's async spans);
 *   - one counter track per series (CounterDescriptor), TYPE_COUNTER
 *     events with double values;
 *   - a task moving between threads: an INSTANT on each side, joined by a
 *     flow id (flow_ids on the first, terminating_flow_ids on the second).
 * Stacks (blocked intervals, CPU samples) go as a string debug annotation
 * "stack" (leaf first, one frame a line) and as TrackEvent.callstack
 * (field 55, outermost first: newer UIs draw it). Arguments (task, kind,
 * status, deadline, overdue, pool outcome, wait) are debug annotations.
 * Every packet is on the process's sequence (trusted_packet_sequence_id =
 * pid) and every track uuid and flow id carries the pid, so the traces of
 * a process tree's processes concatenate into one (format/trace_merge.h).
 * Timestamps are CLOCK_MONOTONIC ns as they are (the trace's default clock
 * is only a label here: nothing else is in the file). The window's notes
 * (drops, rates) ride on an instant "trace notes" on the process track.
 * Field numbers: Perfetto's protos/perfetto/trace/ (trace_packet.proto,
 * track_event/); tests/trace/perfetto_subset.proto is the subset
 * written here, decoded by protoc in the tests. */
#ifndef IX_FORMAT_TRACE_PERFETTO_H
#define IX_FORMAT_TRACE_PERFETTO_H

#include "model/trace.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A process's part of a process tree's trace: the window counts from base
 * (CLOCK_MONOTONIC ns, taken by the root; the trace notes carry it as
 * tree_t0_ns, with the pid) and the process track is named name. */
struct ix_trace_perfetto_part {
    int64_t base;
    const char *name; /* "title (pid N)" */
};

/* t into out (part NULL: this process alone). 0, or INTROSPECT_ENOMEM. */
int ix_trace_perfetto(const struct ix_trace *t, const struct ix_trace_perfetto_part *part,
                      ix_buf *out);

/* The merge's helpers (format/trace_merge.h), here with the field numbers. */
/* 0 when data is a well-formed Trace of pid's part for base (every packet
 * on pid's sequence, a process track of pid, trace notes with tree_t0_ns =
 * base followed by as many packets as their part_events says: a part cut
 * between two packets is refused), with *first_ts its earliest timestamp;
 * INTROSPECT_EINVAL when not. */
int ix_trace_perfetto_check_part(const void *data, size_t len, pid_t pid, int64_t base,
                                 int64_t *first_ts);
/* A process track (pid, name) with no events, on sequence seq: a process
 * of the tree whose part is missing, named for why. */
void ix_trace_perfetto_process_track(ix_buf *out, pid_t seq, pid_t pid, const char *name);
/* An instant "process tree" on root's process track at ts: processes,
 * merged, and the notes as note_1, note_2... */
void ix_trace_perfetto_tree_notes(ix_buf *out, pid_t root, int64_t ts, int processes, int merged,
                                  const char *const *notes, int nnotes);

#endif
