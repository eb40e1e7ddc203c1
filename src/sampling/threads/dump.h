/* Stacks of every thread, captured from inside the process.
 *
 * Each thread is sent the dump signal on its own (rt_tgsigqueueinfo) with a
 * payload naming the request: a generation number and a slot index. Its
 * handler unwinds the interrupted stack into that static slot. The collector
 * waits up to a timeout, then abandons the slots still unanswered. A handler
 * that runs late (after the timeout, or in a later dump) finds the slot's
 * generation changed and writes nothing: slots are static and claimed with a
 * compare-and-swap on (generation, state), so no handler ever writes into
 * memory that was freed or reused. Threads that block the signal, are
 * stopped or zombies are not signalled; they are listed with their /proc
 * information and the reason. One dump runs at a time.
 *
 * Blocked threads are not signalled at all: they are walked from outside
 * (sampling/threads/blocked_walk.h), so no host call sees EINTR and threads
 * that block every signal get a stack too. Only running threads, which are
 * in no system call, are signalled. */
#ifndef IX_THREAD_DUMP_H
#define IX_THREAD_DUMP_H

#include <stdint.h>
#include <sys/types.h>

#include "model/thread_dump.h" /* the dump's data: entries, stack status */
#include "sampling/threads/proc.h"

#define IX_DUMP_MAX_THREADS 512 /* threads whose stacks one dump can capture */
#define IX_DUMP_MAX_LISTED 4096 /* threads listed (with /proc information) */

/* Flags for ix_thread_dump_take. */
enum {
    /* Do not signal threads blocked in system calls that SA_RESTART cannot
     * restart (nanosleep, poll, epoll_wait, select, sigtimedwait, pause, SysV
     * IPC ...): a signal makes those return EINTR, which a careless host
     * (e.g. `sleep(30)` in main) may not expect. Such threads are listed with
     * their /proc information and the system call's pc. */
    IX_DUMP_SPARE_EINTR = 1,
    /* Do not walk blocked threads without a signal (the walk is the default:
     * every blocked thread, including those that block the dump signal, is
     * walked from its saved SP/PC; only running threads are signalled). */
    IX_DUMP_NO_WALK = 2
};

/* Install the handler for sig (once per signal; never removed, because a
 * late signal with no handler would kill the process). Returns 0, or
 * INTROSPECT_ESIGNAL when another handler owns sig (why says so); dumps then
 * list threads with /proc information only. */
int ix_thread_dump_setup(int sig, char *why, size_t whylen);
/* Capture every thread. Returns 0, INTROSPECT_EBUSY when another dump is
 * running, or INTROSPECT_ENOMEM. Free with ix_thread_dump_free. */
int ix_thread_dump_take(struct ix_thread_dump *d, int timeout_ms, int flags);
void ix_thread_dump_free(struct ix_thread_dump *d);
/* Counters since the process began: dumps taken, handler runs that came too
 * late to be used. */
void ix_thread_dump_counters(uint64_t *dumps, uint64_t *late);

#endif
