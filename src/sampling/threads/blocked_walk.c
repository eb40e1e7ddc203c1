#include "sampling/threads/blocked_walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stack/unwind.h"
#include "introspect.h"

/* How much stack is copied: most server stacks are a few KB deep; a walk
 * that runs off the first copy is retried once with the larger size. */
#define COPY_FIRST (64u << 10)
#define COPY_MAX (512u << 10)

/* A token that changes whenever the thread runs: its run time (ns) and run
 * count from schedstat; without schedstat, its context-switch counters. */
struct ran {
    unsigned long long a, b, wait;
    int ok;
};

static int read_file(pid_t tid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return INTROSPECT_ESYS;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return INTROSPECT_ESYS;
    buf[n] = '\0';
    return 0;
}

static struct ran read_ran(pid_t tid)
{
    struct ran r = {0, 0, 0, 0};
    char buf[2048];
    if (read_file(tid, "schedstat", buf, sizeof buf) == 0 &&
        sscanf(buf, "%llu %llu %llu", &r.a, &r.wait, &r.b) == 3) {
        r.ok = 1;
        return r;
    }
    if (read_file(tid, "status", buf, sizeof buf) == 0) {
        const char *v = strstr(buf, "\nvoluntary_ctxt_switches:");
        const char *nv = strstr(buf, "\nnonvoluntary_ctxt_switches:");
        if (v && nv) {
            r.a = strtoull(v + 26, NULL, 10);
            r.b = strtoull(nv + 29, NULL, 10);
            r.ok = 1;
        }
    }
    return r;
}

static int same_call(const struct ix_thread_proc *x, const struct ix_thread_proc *y)
{
    return x->syscall_readable && y->syscall_readable && !x->syscall_running &&
           !y->syscall_running && x->syscall_nr == y->syscall_nr &&
           x->syscall_sp == y->syscall_sp && x->syscall_pc == y->syscall_pc &&
           memcmp(x->syscall_args, y->syscall_args, sizeof x->syscall_args) == 0;
}

/* Copy [sp, sp + want) of our own memory; stops at the first unreadable
 * page (the end of the stack mapping). Returns the bytes copied. */
static size_t copy_stack(uintptr_t sp, uint8_t *dst, size_t want)
{
    size_t got = 0;
    while (got < want) {
        /* One page-bounded piece at a time: process_vm_readv stops at the
         * first fault of an iovec and reports a partial count. */
        struct iovec local = {dst + got, want - got};
        struct iovec remote = {(void *)(sp + got), want - got};
        ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static int ensure(struct ix_bwalk_scratch *s, size_t cap)
{
    if (s->cap >= cap)
        return 0;
    uint8_t *b = realloc(s->buf, cap);
    if (!b)
        return INTROSPECT_ENOMEM;
    s->buf = b;
    s->cap = cap;
    return 0;
}

int ix_blocked_walk(pid_t tid, struct ix_bwalk_scratch *scratch, uintptr_t *pcs, int max,
                    struct ix_bwalk_result *res)
{
    return ix_blocked_walk_seen(tid, NULL, scratch, pcs, max, res);
}

/* The first look may be one the caller just took (seen): the proof that the
 * copy is whole does not need it after the first run-time reading, only
 * that the thread did not run between that reading and the second one and
 * is still in the same call at the end. */
int ix_blocked_walk_seen(pid_t tid, const struct ix_thread_proc *seen,
                         struct ix_bwalk_scratch *scratch, uintptr_t *pcs, int max,
                         struct ix_bwalk_result *res)
{
    memset(res, 0, sizeof *res);
    size_t want = COPY_FIRST;
    for (int t = 0; t < IX_BWALK_TRIES + 1; t++) {
        int reuse = t == 0 && seen && seen->syscall_readable && !seen->syscall_running;
        if (reuse)
            res->sys = *seen;
        struct ran r0 = read_ran(tid);
        res->have_sched = r0.ok;
        res->run_ns = r0.a;
        res->run_count = r0.b;
        res->runq_wait_ns = r0.wait;
        if (!reuse)
            ix_thread_syscall_read(tid, &res->sys);
        if (!res->sys.syscall_readable) {
            struct ix_thread_proc probe;
            res->status = ix_thread_proc_read(tid, &probe) ? IX_BWALK_GONE : IX_BWALK_UNREADABLE;
            return res->status;
        }
        if (res->sys.syscall_running)
            return res->status = IX_BWALK_RUNNING;
        uintptr_t sp = res->sys.syscall_sp, pc = res->sys.syscall_pc;
        if (!sp || !pc || ensure(scratch, want))
            return res->status = IX_BWALK_NOSTACK;
        size_t len = copy_stack(sp, scratch->buf, want);
        if (len < sizeof(uintptr_t))
            return res->status = IX_BWALK_NOSTACK;
        res->tries++;
        /* The frame pointer is unknown at the call: 0 makes an rbp-based
         * CFA before rbp was recovered from a frame end the walk. */
        int end = IX_WALK_MAX;
        int n = ix_unwind_copy_end(pc, sp, 0, scratch->buf, len, pcs, max, &end);
        struct ix_thread_proc after;
        ix_thread_syscall_read(tid, &after);
        struct ran r1 = read_ran(tid);
        if (!same_call(&res->sys, &after) || !r0.ok || !r1.ok || r0.a != r1.a ||
            r0.b != r1.b) {
            if (after.syscall_readable && after.syscall_running)
                return res->status = IX_BWALK_RUNNING; /* woke: it is running now */
            continue; /* moved: the copy may mix two moments */
        }
        /* Ran off a full copy: once more with a bigger one (counts as a try). */
        if (end == IX_WALK_COPY_END && len == want && want < COPY_MAX) {
            want = COPY_MAX;
            continue;
        }
        res->npcs = n;
        res->end = end;
        res->truncated = end != IX_WALK_ROOT && end != IX_WALK_MAX;
        return res->status = IX_BWALK_OK;
    }
    res->npcs = 0;
    return res->status = IX_BWALK_RACED;
}

void ix_bwalk_scratch_free(struct ix_bwalk_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

const char *ix_bwalk_status_text(int status)
{
    switch (status) {
    case IX_BWALK_OK: return "ok";
    case IX_BWALK_RUNNING: return "running";
    case IX_BWALK_RACED: return "raced";
    case IX_BWALK_UNREADABLE: return "syscall unreadable";
    case IX_BWALK_GONE: return "exited";
    case IX_BWALK_NOSTACK: return "stack unreadable";
    default: return "unknown";
    }
}

