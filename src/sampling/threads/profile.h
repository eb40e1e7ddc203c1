/* The thread profiles as Go names them, built from a thread dump or from
 * the thread-creation stacks: the producer half of /debug/pprof/threads
 * (alias goroutine) and /debug/pprof/threadcreate.
 *
 * Thread names in the grouped profile: samples are one per distinct stack (a
 * label per thread would split them), so each sample carries labels that
 * summarise its threads: "thread" lists their names ("worker*3,main"), and
 * "state" their states ("sleeping*2,running"). Threads whose stack could not
 * be captured are their own samples with a "missing" label saying why; their
 * stack is the user-space pc of the system call they block in when /proc
 * shows it, else empty. */
#ifndef IX_THREADS_PROFILE_H
#define IX_THREADS_PROFILE_H

#include "model/profile.h"
#include "sampling/threads/dump.h"

/* The "goroutine" profile: one sample per distinct stack, value = threads
 * with it. Returns 0 or INTROSPECT_ENOMEM (p is initialised either way). */
int ix_threads_profile_grouped(const struct ix_thread_dump *d, struct ix_profile *p);
/* One sample per thread (a numeric "tid" label keeps them apart), in dump
 * order: the per-thread views resolve sample i's frames for thread i. */
int ix_threads_profile_per_thread(const struct ix_thread_dump *d, struct ix_profile *p);
/* The "threadcreate" profile: where threads were created, with counters. */
int ix_threadcreate_profile(struct ix_profile *p);

/* The stack shown for a thread: its unwound frames, or the pc of the system
 * call it blocks in (one frame, stored in *one) when it could not be unwound. */
int ix_thread_shown_stack(const struct ix_thread_entry *e, const uintptr_t **pcs, uintptr_t *one);

#endif
