/* An execution trace (model/trace.h) in the Chrome trace-event JSON format
 * that Perfetto's UI, chrome://tracing and the UI's Timeline open:
 *   {"displayTimeUnit":"ms","traceEvents":[...],"stackFrames":{...},"otherData":{...}}
 * Per thread two lanes: tid (tasks, pool and mutex waits as "X" complete
 * events; a span that does not nest inside the lane's others becomes an
 * async "b"/"e" pair) and tid + IX_TRACE_STATE_TID (running and blocked
 * intervals; a blocked one points with "sf" at its stack in stackFrames).
 * Flows ("s"/"f", bound to the enclosing slices) draw a task moving between
 * threads; "C" events carry the counters; an "i" instant marks a missed
 * deadline inside its task. "M" events name the process and the lanes.
 * Timestamps are microseconds from the window's start (otherData.t0_ns is
 * that start on CLOCK_MONOTONIC). */
#ifndef IX_FORMAT_TRACE_JSON_H
#define IX_FORMAT_TRACE_JSON_H

#include "model/trace.h"
#include "util/buf.h"

#define IX_TRACE_STATE_TID 1000000000 /* added to a tid for its state lane */

/* A process's part of a process tree's trace (format/trace_merge.h): its
 * timestamps count from base (CLOCK_MONOTONIC ns, the same instant in every
 * process), its ids that the merged trace shares (stack-frame ids, async
 * span and flow ids) carry the pid, and the process track has name. */
struct ix_trace_json_part {
    int64_t base;
    const char *name; /* "title (pid N)" */
};

/* part NULL: a trace of this process alone. */
void ix_trace_json(const struct ix_trace *t, const struct ix_trace_json_part *part, ix_buf *out);

#endif
