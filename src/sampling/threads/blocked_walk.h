/* Stacks of blocked threads, with no signal.
 *
 * A thread blocked in a system call (or in the kernel for another reason: a
 * page fault, an uninterruptible wait) has saved its user registers on entry,
 * and /proc/self/task/<tid>/syscall gives two of them: the stack pointer and
 * the program counter. Its stack is this process's own memory. So the thread
 * can be walked from outside: copy the top of its stack with checked reads
 * (process_vm_readv on ourselves: a bad address is an error, never a fault),
 * then walk the copy with the prepared CFI tables (stack/unwind_tables.h),
 * starting from the rules at PC. No signal is sent: no host call is
 * interrupted, and threads that block every signal are walked too.
 *
 * The frame pointer is not among the registers /proc gives. The walk starts
 * with it unknown and learns it from the first frame whose CFI says where rbp
 * was saved; a frame whose CFA is rbp-based before that ends the walk (the
 * stack is then marked truncated rather than guessed).
 *
 * Racing a thread that wakes mid-copy: the walk is only kept when the thread
 * provably did not run while its stack was copied: /proc's syscall line (call,
 * arguments, SP, PC) is the same after the copy as before, and the thread's
 * run time and run count (/proc/.../schedstat, else its context-switch
 * counters) did not move. Otherwise it is retried a few times, then reported
 * as raced (no frames). A wrong stack is never reported. */
#ifndef IX_BLOCKED_WALK_H
#define IX_BLOCKED_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampling/threads/proc.h"

enum ix_bwalk_status {
    IX_BWALK_OK,         /* blocked; pcs hold its stack */
    IX_BWALK_RUNNING,    /* on a CPU or runnable: not walkable from outside */
    IX_BWALK_RACED,      /* woke up during every try: no stack */
    IX_BWALK_UNREADABLE, /* /proc/.../syscall refused (ptrace policy) */
    IX_BWALK_GONE,       /* the thread exited */
    IX_BWALK_NOSTACK     /* the stack at SP could not be read */
};

/* Scratch memory for the stack copy, owned by the caller (one per walking
 * thread); ix_bwalk_scratch_free releases it. */
struct ix_bwalk_scratch {
    uint8_t *buf;
    size_t cap;
};

struct ix_bwalk_result {
    int status;                /* enum ix_bwalk_status */
    int npcs;
    int truncated;             /* the walk stopped before the root (see end) */
    int end;                   /* enum ix_walk_end (stack/unwind.h) */
    int tries;                 /* copies made (more than 1: the thread moved) */
    struct ix_thread_proc sys; /* the syscall fields seen (call, args, SP, PC) */
    /* From /proc/.../schedstat when have_sched (else context-switch counts
     * in run_ns/run_count): time on a CPU, times run, time waiting for one. */
    int have_sched;
    unsigned long long run_ns, run_count, runq_wait_ns;
};

#define IX_BWALK_TRIES 3

/* Walk thread tid if it is blocked. pcs follow the profile model's PC
 * convention (pcs[0] = the saved PC + 1, then return addresses). Needs the
 * unwind tables (ix_unwind_tables_update) to be prepared. Returns
 * res->status. Never called from a signal handler. */
int ix_blocked_walk(pid_t tid, struct ix_bwalk_scratch *scratch, uintptr_t *pcs, int max,
                    struct ix_bwalk_result *res);
/* The same, taking seen (may be NULL) as the first look at tid's syscall
 * file: a reading the caller just made, which saves one /proc read. */
int ix_blocked_walk_seen(pid_t tid, const struct ix_thread_proc *seen,
                         struct ix_bwalk_scratch *scratch, uintptr_t *pcs, int max,
                         struct ix_bwalk_result *res);
void ix_bwalk_scratch_free(struct ix_bwalk_scratch *scratch);
const char *ix_bwalk_status_text(int status);

#endif
