/* The data of a thread dump: per thread, what the kernel says about it
 * (/proc/self/task/<tid>/...) and its stack or why there is none. Plain data,
 * filled by the producer (sampling/threads/dump.h, proc.h) and read by the
 * encoders (format/thread_dump.h) and the thread profiles. The names below
 * turn its codes into words; they read no process state. */
#ifndef IX_MODEL_THREAD_DUMP_H
#define IX_MODEL_THREAD_DUMP_H

#include <stdint.h>
#include <sys/types.h>

#define IX_DUMP_MAX_FRAMES 64

/* One thread as /proc/self/task/<tid>/{stat,status,wchan,syscall} shows it. */
struct ix_thread_proc {
    pid_t tid;
    int exists;          /* 0 when the thread is gone (fields below unset) */
    char name[32];       /* comm */
    char state;          /* R S D T t Z X I ... ('?' unknown) */
    char wchan[64];      /* kernel function it sleeps in, "" when none/hidden */
    double cpu_user_s, cpu_sys_s;
    unsigned long long starttime; /* clock ticks after boot: tells tid reuse apart */
    uint64_t sigblk;     /* blocked signal mask (bit sig-1) */
    unsigned long long voluntary_switches; /* times it blocked (status) */
    int have_sigblk;
    /* /proc/.../syscall: "running", a blocked syscall with its args and the
     * user-space pc/sp at entry, or unreadable (syscall_err says why). */
    int syscall_nr;      /* -1 = not in a syscall (running or blocked in user space) */
    int syscall_running; /* the file said "running" */
    uint64_t syscall_args[6];
    uintptr_t syscall_sp, syscall_pc;
    int syscall_readable;
    char syscall_err[64];
};

enum ix_stack_status {
    IX_STACK_OK,        /* unwound by the thread's own handler */
    IX_STACK_SELF,      /* the dumping thread: unwound directly */
    IX_STACK_BLOCKED,   /* the thread blocks the dump signal */
    IX_STACK_TIMEOUT,   /* signalled, did not answer in time */
    IX_STACK_EXITED,    /* exited during the dump */
    IX_STACK_ZOMBIE,    /* exited, not yet reaped: cannot run a handler */
    IX_STACK_STOPPED,   /* stopped or traced: cannot run a handler now */
    IX_STACK_NOSIGNAL,  /* no dump signal handler (signal owned by someone else) */
    IX_STACK_LIMIT,     /* more threads than capture slots */
    IX_STACK_SENDFAIL,  /* the signal could not be queued (e.g. RLIMIT_SIGPENDING) */
    IX_STACK_SPARED,    /* blocked in a call a signal would end with EINTR; not signalled */
    IX_STACK_WALKED,    /* blocked: walked from /proc's SP/PC with no signal (blocked_walk.h) */
    IX_STACK_RACED      /* kept waking while being walked: no stack rather than a wrong one */
};

struct ix_thread_entry {
    struct ix_thread_proc proc; /* read just before the thread was signalled */
    int status;                 /* enum ix_stack_status */
    int npcs;                   /* frames in pcs (profile PC convention) */
    uintptr_t pcs[IX_DUMP_MAX_FRAMES];
    double state_for_s;         /* at least this long in proc.state; < 0 unknown */
    int walk_end;               /* IX_STACK_WALKED: why the walk stopped (enum ix_walk_end) */
};

struct ix_thread_dump {
    struct ix_thread_entry *threads;
    int n;            /* listed */
    int total;        /* threads in /proc/self/task (may exceed n) */
    int signal;       /* dump signal used, 0 when none */
    int timeout_ms;
    long long time_ns;     /* wall clock, for the profile */
    long long duration_ns; /* how long the capture took */
    char signal_problem[160]; /* why the dump signal is unusable, "" when fine */
};

/* 1 when the thread's own stack was captured (itself, by signal, or walked). */
int ix_thread_has_stack(const struct ix_thread_entry *e);
/* A short reason for a status, e.g. "blocks the dump signal". */
const char *ix_stack_status_text(int status);
/* A status as one word ("ok", "blocked", "walked" ...), "unknown" out of range. */
const char *ix_stack_status_token(int status);
/* Why a walk stopped, in words (enum ix_walk_end of stack/unwind.h). */
const char *ix_walk_end_text(int end);
/* "running", "sleeping", "disk wait", "stopped", "tracing stop", "zombie", "dead", "idle". */
const char *ix_thread_state_name(char state);
/* Name of an x86-64 / aarch64 syscall number for the common blocking calls,
 * or NULL (callers print the number). */
const char *ix_syscall_name(int nr);

#endif
