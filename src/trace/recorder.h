/* The execution-trace recorder: what the hot paths (task begin/end, pool
 * acquires, contended mutexes) call while a trace runs, and the one branch
 * they pay when none does.
 *
 * Off: ix_trace_on() is one relaxed load of a global flag, predicted false;
 * the hooks behind it are out of line (noinline, cold), so the host's hot
 * path grows by a load, a test and a never-taken jump.
 *
 * On: each thread that emits gets its own ring of fixed-size records
 * (allocated on its first event of a trace, kept for reuse: never freed, so
 * the reader never touches freed memory). The owner is the only writer: it
 * fills the next record and then publishes the ring's head with a release
 * store. A full ring drops the newest events and counts them (the window's
 * start is kept, and a record the reader copies is never overwritten).
 * Rings carry the trace's generation: the first event of a new trace resets
 * the ring, so one trace never shows another's events. A thread that exits
 * gives its ring back; the next new thread adopts it (same generation: it
 * appends, every record names its thread).
 *
 * The reader (sampling/trace/) clears the flag, waits a moment for writers
 * that already passed the test, and copies every ring of its generation. */
#ifndef IX_TRACE_RECORDER_H
#define IX_TRACE_RECORDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum ix_trace_type {
    IX_TR_TASK_BEGIN = 1, /* id = task handle; a = kind, b = deadline ns (0 none); name */
    IX_TR_TASK_END,       /* id = task handle; a = kind, b = state (-1 none), c = overdue */
    IX_TR_TASK_BIND,      /* id = task handle: the task now runs on this thread */
    IX_TR_POOL_WAIT,      /* ts..ts+dur; id = current task (0 none); a = pool slot, b = outcome */
    IX_TR_MUTEX_WAIT,     /* ts..ts+dur; id = current task; a = lock address */
};

#define IX_TRACE_NAME 24 /* task names are cut to this in the trace */

struct ix_trace_rec {
    int64_t ts;  /* CLOCK_MONOTONIC ns */
    int64_t dur; /* ns, for the waits */
    uint64_t id;
    int64_t a, b;
    int32_t tid;
    uint16_t type;
    uint16_t c;
    char name[IX_TRACE_NAME];
};

extern _Atomic int ix_trace_flag;

/* 1 while a trace runs: the one branch every hook pays. */
static inline int ix_trace_on(void)
{
    return __builtin_expect(atomic_load_explicit(&ix_trace_flag, memory_order_relaxed), 0);
}

/* Append a record to the calling thread's ring (ts and tid filled here when
 * zero). Never blocks; may allocate the ring on a thread's first event. */
void ix_trace_emit(struct ix_trace_rec *r);
/* The task the calling thread runs (set by task begin and bind, cleared by
 * end), 0 none: what a pool or mutex wait is linked to. */
uint64_t ix_trace_current_task(void);
void ix_trace_set_current_task(uint64_t id);

/* ---- the reader's side (one trace at a time) ---- */

/* Start recording with capacity records per thread ring; returns the
 * generation (> 0), or INTROSPECT_EBUSY when a trace runs already. */
int ix_trace_begin(size_t capacity);
/* Stop recording (writers that already passed the test finish). */
void ix_trace_end(void);
/* Copy every record of generation gen (call after ix_trace_end). Returns the
 * count (*out malloc'd, caller frees) or INTROSPECT_ENOMEM; *dropped gets the records the
 * full rings refused, *rings how many threads recorded. */
long ix_trace_collect(int gen, struct ix_trace_rec **out, uint64_t *dropped, int *rings);
/* Done with generation gen: another trace may begin. */
void ix_trace_release(void);
/* Bytes of ring memory held (for the trace's metadata). */
size_t ix_trace_ring_bytes(void);

#endif
