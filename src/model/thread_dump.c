/* The names of a thread dump's codes (model/thread_dump.h). */
#include "model/thread_dump.h"

#include <stddef.h>
#include <sys/syscall.h>

#include "stack/unwind.h"

int ix_thread_has_stack(const struct ix_thread_entry *e)
{
    return e->status == IX_STACK_OK || e->status == IX_STACK_SELF ||
           e->status == IX_STACK_WALKED;
}

const char *ix_stack_status_text(int status)
{
    switch (status) {
    case IX_STACK_OK: return "ok";
    case IX_STACK_SELF: return "ok (the dumping thread)";
    case IX_STACK_BLOCKED: return "blocks the dump signal";
    case IX_STACK_TIMEOUT: return "did not answer the dump signal in time";
    case IX_STACK_EXITED: return "exited during the dump";
    case IX_STACK_ZOMBIE: return "exited (zombie): cannot run a handler";
    case IX_STACK_STOPPED: return "stopped or traced: cannot run a handler now";
    case IX_STACK_NOSIGNAL: return "no dump signal handler installed";
    case IX_STACK_LIMIT: return "more threads than dump slots";
    case IX_STACK_SENDFAIL: return "the dump signal could not be queued";
    case IX_STACK_SPARED:
        return "not signalled (interrupt=0): blocked in a call a signal would end with EINTR";
    case IX_STACK_WALKED: return "ok (blocked: walked without a signal)";
    case IX_STACK_RACED: return "raced: it woke up during every walk";
    default: return "unknown";
    }
}

const char *ix_stack_status_token(int status)
{
    static const char *const t[] = {"ok", "self", "blocked", "timeout", "exited",
                                    "zombie", "stopped", "nosignal", "limit", "sendfail",
                                    "spared", "walked", "raced"};
    return status >= 0 && status < (int)(sizeof t / sizeof t[0]) ? t[status] : "unknown";
}

const char *ix_walk_end_text(int end)
{
    switch (end) {
    case IX_WALK_ROOT: return "reaches its root";
    case IX_WALK_MAX: return "deeper than the frame limit";
    case IX_WALK_COPY_END: return "stops at the end of the stack copy";
    case IX_WALK_NO_INFO: return "stops at code without unwind information";
    case IX_WALK_NO_FP: return "stops at a frame whose frame pointer could not be recovered";
    case IX_WALK_BAD: return "stops at an implausible frame";
    default: return "unknown";
    }
}

const char *ix_thread_state_name(char state)
{
    switch (state) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk wait";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'Z': return "zombie";
    case 'X': return "dead";
    case 'I': return "idle";
    case 'P': return "parked";
    case 'W': return "waking";
    default: return "unknown";
    }
}

/* The calls a server thread is usually found blocked in. The SYS_* macros
 * carry each architecture's numbers. */
static const struct {
    int nr;
    const char *name;
} syscalls[] = {
#define S(x) {SYS_##x, #x},
    S(read) S(write) S(close) S(ioctl) S(pread64) S(pwrite64) S(readv) S(writev)
    S(sched_yield) S(mmap) S(munmap) S(nanosleep) S(clock_nanosleep) S(futex) S(connect)
    S(accept) S(accept4) S(sendto) S(recvfrom) S(sendmsg) S(recvmsg) S(wait4) S(waitid)
    S(rt_sigsuspend) S(rt_sigtimedwait) S(pselect6) S(ppoll) S(epoll_pwait) S(flock) S(fsync)
    S(fdatasync) S(openat) S(msgrcv) S(semtimedop) S(io_getevents) S(getdents64) S(fcntl)
#ifdef SYS_poll
    S(poll)
#endif
#ifdef SYS_select
    S(select)
#endif
#ifdef SYS_epoll_wait
    S(epoll_wait)
#endif
#ifdef SYS_pause
    S(pause)
#endif
#ifdef SYS_open
    S(open)
#endif
#ifdef SYS_epoll_pwait2
    S(epoll_pwait2)
#endif
#ifdef SYS_io_uring_enter
    S(io_uring_enter)
#endif
#ifdef SYS_futex_waitv
    S(futex_waitv)
#endif
#undef S
};

const char *ix_syscall_name(int nr)
{
    for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++)
        if (syscalls[i].nr == nr)
            return syscalls[i].name;
    return NULL;
}
