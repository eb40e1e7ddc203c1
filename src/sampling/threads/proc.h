/* What the kernel says about one thread of this process, read from
 * /proc/self/task/<tid>/{stat,status,wchan,syscall}. No cooperation from the
 * thread is needed, so this works for threads that block signals, are stuck
 * in uninterruptible sleep, or are zombies. Never called from a signal handler. */
#ifndef IX_THREAD_PROC_H
#define IX_THREAD_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "model/thread_dump.h" /* struct ix_thread_proc, ix_syscall_name */

/* Fill info for tid. Returns 0, or INTROSPECT_ESYS when the thread no longer
 * exists (its /proc files cannot be read). */
int ix_thread_proc_read(pid_t tid, struct ix_thread_proc *info);
/* Re-read only the syscall fields of info (the cheapest check of where a
 * blocked thread is: one small /proc file). */
void ix_thread_syscall_read(pid_t tid, struct ix_thread_proc *info);
/* Re-read only wchan (readable in a non-dumpable process, where syscall is
 * not). */
void ix_thread_wchan_read(pid_t tid, struct ix_thread_proc *info);
/* The thread's CPU time so far in ns (/proc/.../schedstat: the scheduler
 * adds to it when the thread leaves a CPU and at each tick); 0 if unknown. */
unsigned long long ix_thread_ran_ns(pid_t tid);
/* 1 for the system calls a signal handler interrupts with EINTR even under
 * SA_RESTART (signal(7)): sleeps, fd multiplexing, signal waits, SysV IPC,
 * io_getevents. */
int ix_syscall_eintr_always(int nr);
/* 1 for the calls where a thread waits for work: sleeps, fd multiplexing,
 * signal waits, accept (the idle waits of wall and off-CPU profiles). */
int ix_syscall_idle(int nr);
/* 1 when wchan names where the kernel sleeps in one of those calls (for
 * threads whose syscall file is unreadable). */
int ix_wchan_eintr_always(const char *wchan);
/* INTROSPECT_WALK_NONDUMPABLE: in a non-dumpable process, open each
 * thread's syscall file in a brief PR_SET_DUMPABLE window and keep it. */
void ix_thread_proc_allow_window(int on);
/* How many such windows were opened. */
unsigned long long ix_thread_proc_windows(void);
/* In a forked child: close the kept descriptors. */
void ix_thread_proc_forked(void);

#endif
