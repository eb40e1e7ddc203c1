#include "sampling/threads/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "introspect.h"
#include "util/errno_text.h"

/* Read a small /proc file into buf (NUL-terminated). Returns bytes or -errno. */
static int read_small(pid_t tid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    return (int)n;
}

/* stat: "tid (comm) S ppid ..." — comm may hold spaces and parentheses, so
 * fields are counted from the last ')'. tok[0] is field 3 (state). */
static int parse_stat(struct ix_thread_proc *t, char *buf)
{
    char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
    if (!open_p || !close_p || close_p < open_p || !close_p[1])
        return INTROSPECT_EINVAL;
    size_t nl = (size_t)(close_p - open_p - 1);
    if (nl >= sizeof t->name)
        nl = sizeof t->name - 1;
    memcpy(t->name, open_p + 1, nl);
    t->name[nl] = '\0';
    char *tok[24] = {0};
    int n = 0;
    for (char *s = close_p + 1; *s && n < 24;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        tok[n++] = s;
        while (*s && *s != ' ')
            s++;
    }
    if (n < 20)
        return INTROSPECT_EINVAL;
    t->state = tok[0][0];
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    t->cpu_user_s = (double)strtoull(tok[11], NULL, 10) / (double)hz; /* field 14 */
    t->cpu_sys_s = (double)strtoull(tok[12], NULL, 10) / (double)hz;  /* field 15 */
    t->starttime = strtoull(tok[19], NULL, 10);                       /* field 22 */
    return 0;
}

static void read_sigblk(struct ix_thread_proc *t)
{
    char buf[4096];
    if (read_small(t->tid, "status", buf, sizeof buf) <= 0)
        return;
    const char *p = strstr(buf, "\nvoluntary_ctxt_switches:");
    if (p)
        t->voluntary_switches = strtoull(p + 26, NULL, 10);
    p = strstr(buf, "\nSigBlk:");
    if (!p)
        return;
    t->sigblk = strtoull(p + 8, NULL, 16);
    t->have_sigblk = 1;
}

static void read_wchan(struct ix_thread_proc *t)
{
    char buf[128];
    t->wchan[0] = '\0';
    if (read_small(t->tid, "wchan", buf, sizeof buf) <= 0)
        return;
    /* "0" means not sleeping in the kernel (or hidden by the kernel's policy). */
    if (strcmp(buf, "0") == 0)
        return;
    snprintf(t->wchan, sizeof t->wchan, "%.63s", buf);
    t->wchan[strcspn(t->wchan, "\n")] = '\0';
}

/* A non-dumpable process (started as root, then dropped to another user:
 * memcached -u, nginx workers) has its /proc/self/task/N files owned by root,
 * so opening syscall fails with EACCES; reading a descriptor already open is
 * allowed (the kernel's ptrace check passes within one thread group). With
 * INTROSPECT_WALK_NONDUMPABLE=1 the file is opened inside a PR_SET_DUMPABLE
 * window (three system calls, once per thread: while it is open, processes
 * of the same user may ptrace this one) and the descriptor is kept, at most
 * PROC_FDS of them (threads beyond stay unreadable). Off by default. */
#define PROC_FDS 128
static atomic_int g_window;
static atomic_ullong g_windows;
static pthread_mutex_t g_fds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    pid_t tid;
    int fd;
} g_fds[PROC_FDS];
static int g_nfds;

void ix_thread_proc_allow_window(int on) { atomic_store(&g_window, on ? 1 : 0); }

unsigned long long ix_thread_proc_windows(void) { return atomic_load(&g_windows); }

void ix_thread_proc_forked(void)
{
    /* The child's threads are new: the parent's descriptors are no use. */
    for (int i = 0; i < g_nfds; i++)
        close(g_fds[i].fd);
    g_nfds = 0;
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    g_fds_lock = fresh;
}

static int read_fd(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return (int)n;
}

static int read_syscall_windowed(pid_t tid, char *buf, size_t len)
{
    int n = -EACCES;
    pthread_mutex_lock(&g_fds_lock);
    for (int i = 0; i < g_nfds; i++) {
        if (g_fds[i].tid != tid)
            continue;
        n = read_fd(g_fds[i].fd, buf, len);
        if (n >= 0)
            goto out;
        /* The thread exited (its tid may be reused): forget it. */
        close(g_fds[i].fd);
        g_fds[i] = g_fds[--g_nfds];
        break;
    }
    n = -EACCES;
    /* Only a process the kernel made non-dumpable (0); 2 (suid_dumpable)
     * could not be restored by PR_SET_DUMPABLE. */
    if (g_nfds >= PROC_FDS || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        goto out;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        goto out;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = errno;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    atomic_fetch_add(&g_windows, 1);
    if (fd < 0) {
        n = -err;
        goto out;
    }
    n = read_fd(fd, buf, len);
    if (n < 0) {
        close(fd);
        goto out;
    }
    g_fds[g_nfds].tid = tid;
    g_fds[g_nfds].fd = fd;
    g_nfds++;
out:
    pthread_mutex_unlock(&g_fds_lock);
    return n;
}

/* syscall: "running", "-1 sp pc" (blocked, not in a syscall), or
 * "nr a1 a2 a3 a4 a5 a6 sp pc". Reading needs ptrace-attach rights over the
 * thread, which some kernels' policies (Yama, containers) refuse. */
static void read_syscall(struct ix_thread_proc *t)
{
    char buf[256];
    int n = read_small(t->tid, "syscall", buf, sizeof buf);
    if (n == -EACCES && atomic_load(&g_window))
        n = read_syscall_windowed(t->tid, buf, sizeof buf);
    if (n < 0) {
        snprintf(t->syscall_err, sizeof t->syscall_err, "unreadable: %s", ix_errno_text(-n));
        return;
    }
    if (n == 0) {
        snprintf(t->syscall_err, sizeof t->syscall_err, "unreadable: empty");
        return;
    }
    t->syscall_readable = 1;
    if (strncmp(buf, "running", 7) == 0) {
        t->syscall_running = 1;
        return;
    }
    char *s = buf, *end;
    long nr = strtol(s, &end, 10);
    unsigned long long v[8] = {0};
    int k = 0;
    for (s = end; k < 8; k++) {
        unsigned long long x = strtoull(s, &end, 16);
        if (end == s)
            break;
        v[k] = x;
        s = end;
    }
    t->syscall_nr = (int)nr;
    if (nr < 0 && k >= 2) {
        t->syscall_sp = (uintptr_t)v[0];
        t->syscall_pc = (uintptr_t)v[1];
    } else if (k >= 8) {
        for (int i = 0; i < 6; i++)
            t->syscall_args[i] = v[i];
        t->syscall_sp = (uintptr_t)v[6];
        t->syscall_pc = (uintptr_t)v[7];
    }
}

void ix_thread_syscall_read(pid_t tid, struct ix_thread_proc *t)
{
    t->tid = tid;
    t->syscall_nr = -1;
    t->syscall_running = 0;
    t->syscall_readable = 0;
    t->syscall_sp = t->syscall_pc = 0;
    memset(t->syscall_args, 0, sizeof t->syscall_args);
    t->syscall_err[0] = '\0';
    read_syscall(t);
}

void ix_thread_wchan_read(pid_t tid, struct ix_thread_proc *t)
{
    t->tid = tid;
    read_wchan(t);
}

unsigned long long ix_thread_ran_ns(pid_t tid)
{
    char buf[128];
    return read_small(tid, "schedstat", buf, sizeof buf) > 0 ? strtoull(buf, NULL, 10) : 0;
}

int ix_thread_proc_read(pid_t tid, struct ix_thread_proc *t)
{
    char buf[1024];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->state = '?';
    t->syscall_nr = -1;
    if (read_small(tid, "stat", buf, sizeof buf) <= 0 || parse_stat(t, buf))
        return INTROSPECT_ESYS;
    t->exists = 1;
    read_sigblk(t);
    read_wchan(t);
    read_syscall(t);
    return 0;
}

/* Blocking calls by kind: EINTR = a signal ends them with EINTR even under
 * SA_RESTART (signal(7)); IDLE = a thread waiting there waits for work. */
enum { EINTR_ALWAYS = 1, IDLE = 2 };
static const struct {
    int nr, kind;
} blocking_calls[] = {
    {SYS_nanosleep, EINTR_ALWAYS | IDLE}, {SYS_clock_nanosleep, EINTR_ALWAYS | IDLE},
    {SYS_ppoll, EINTR_ALWAYS | IDLE},     {SYS_pselect6, EINTR_ALWAYS | IDLE},
    {SYS_epoll_pwait, EINTR_ALWAYS | IDLE}, {SYS_rt_sigtimedwait, EINTR_ALWAYS | IDLE},
    {SYS_rt_sigsuspend, EINTR_ALWAYS | IDLE}, {SYS_semtimedop, EINTR_ALWAYS},
    {SYS_msgrcv, EINTR_ALWAYS},           {SYS_msgsnd, EINTR_ALWAYS},
    {SYS_io_getevents, EINTR_ALWAYS},     {SYS_accept, IDLE},
    {SYS_accept4, IDLE},
#ifdef SYS_poll
    {SYS_poll, EINTR_ALWAYS | IDLE},
#endif
#ifdef SYS_select
    {SYS_select, EINTR_ALWAYS | IDLE},
#endif
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, EINTR_ALWAYS | IDLE},
#endif
#ifdef SYS_epoll_pwait2
    {SYS_epoll_pwait2, EINTR_ALWAYS | IDLE},
#endif
#ifdef SYS_pause
    {SYS_pause, EINTR_ALWAYS | IDLE},
#endif
#ifdef SYS_semop
    {SYS_semop, EINTR_ALWAYS},
#endif
};

static int blocking_kind(int nr)
{
    for (size_t i = 0; i < sizeof blocking_calls / sizeof blocking_calls[0]; i++)
        if (blocking_calls[i].nr == nr)
            return blocking_calls[i].kind;
    return 0;
}

int ix_syscall_eintr_always(int nr) { return (blocking_kind(nr) & EINTR_ALWAYS) != 0; }

int ix_syscall_idle(int nr) { return (blocking_kind(nr) & IDLE) != 0; }

/* Kernel functions a thread sleeps in (wchan) inside the calls above that a
 * signal ends with EINTR: when syscall is unreadable, wchan still tells. */
int ix_wchan_eintr_always(const char *wchan)
{
    static const char *const names[] = {"do_epoll_wait", "ep_poll", "hrtimer_nanosleep",
                                        "do_nanosleep", "do_sys_poll", "do_select",
                                        "core_sys_select", "do_sigtimedwait", "sigsuspend",
                                        "sys_pause", "read_events", "poll_schedule_timeout"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(wchan, names[i]) == 0)
            return 1;
    return 0;
}
