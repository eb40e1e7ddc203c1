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

void ix_trace_perfetto(const struct ix_trace *t, ix_buf *out);

#endif
