/* Encoders of a thread dump's per-thread views (/debug/pprof/threads?debug=2
 * and ?format=json): the dump (model/thread_dump.h), its stacks resolved as
 * one sample per thread in dump order (sample i is thread i), and the live
 * tasks each thread runs (model/tasks.h). */
#ifndef IX_FORMAT_THREAD_DUMP_H
#define IX_FORMAT_THREAD_DUMP_H

#include "model/profile.h"
#include "model/tasks.h"
#include "model/thread_dump.h"
#include "util/buf.h"

/* Go's goroutine debug=2 dump style, with /proc facts and tasks as comments. */
void ix_thread_dump_text(const struct ix_thread_dump *d, const struct ix_resolved *r,
                         const struct ix_tasks_by_thread *bt, ix_buf *b);
/* One JSON object: the capture's facts and a "threads" array. */
void ix_thread_dump_json(const struct ix_thread_dump *d, const struct ix_resolved *r,
                         const struct ix_tasks_by_thread *bt, ix_buf *b);

#endif
