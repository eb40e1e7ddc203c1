/* Descriptors by creating stack (see leaks/fd_stacks.h). */
#include "leaks/fd_stacks.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/threads.h"
#include "sampling/heap/heap.h"
#include "stack/unwind.h"

static atomic_int g_on;
static struct ix_stack_table g_stacks = IX_STACK_TABLE_INIT(IX_FD_STACKS);
static _Atomic uint64_t g_closed[IX_FD_STACKS];
/* Creating stack id + 1 of each open descriptor; 0 = not recorded. */
static _Atomic uint32_t g_fd[IX_FD_STACK_MAX];

void ix_fd_stacks_enable(int on) { atomic_store(&g_on, on ? 1 : 0); }
int ix_fd_stacks_enabled(void) { return atomic_load(&g_on); }
struct ix_stack_table *ix_fd_stacks(void) { return &g_stacks; }
uint64_t ix_fd_stack_closed(int id)
{
    return id >= 0 && id < IX_FD_STACKS ? atomic_load(&g_closed[id]) : 0;
}

static void forget(int fd)
{
    uint32_t old = atomic_exchange_explicit(&g_fd[fd], 0, memory_order_relaxed);
    if (old)
        atomic_fetch_add_explicit(&g_closed[old - 1], 1, memory_order_relaxed);
}

/* A new descriptor from the interposer one frame up: its caller's stack. */
__attribute__((noinline, unused)) static void record(int fd)
{
    if (fd < 0 || fd >= IX_FD_STACK_MAX || ix_module_thread() || ix_in_module())
        return;
    forget(fd); /* closed by a path we do not see, and handed out again */
    uintptr_t pcs[IX_STACK_MAX_FRAMES];
    int n = ix_unwind_here(pcs, IX_STACK_MAX_FRAMES, 2); /* from the interposer's caller */
    ix_heap_exclude_begin();
    int id = n > 0 ? ix_stack_intern(&g_stacks, pcs, n, 1) : -1;
    ix_heap_exclude_end();
    if (id >= 0 && id < IX_FD_STACKS)
        atomic_store_explicit(&g_fd[fd], (uint32_t)id + 1, memory_order_relaxed);
}

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if !(defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                      \
      __has_feature(address_sanitizer) || __has_feature(thread_sanitizer))
#define EXPORT __attribute__((visibility("default")))

/* The next definitions (libc's), bound on first use; until dlsym answers,
 * the system calls themselves. */
#define REAL(type, name, args)                                               \
    static type(*_Atomic real_##name) args;                                  \
    static type(*get_##name(void)) args                                      \
    {                                                                        \
        type(*f) args = atomic_load_explicit(&real_##name, memory_order_relaxed); \
        if (!f) {                                                            \
            f = (type(*) args)dlsym(RTLD_NEXT, #name);                       \
            atomic_store_explicit(&real_##name, f, memory_order_relaxed);    \
        }                                                                    \
        return f;                                                            \
    }
REAL(int, socket, (int, int, int))
REAL(int, socketpair, (int, int, int, int *))
REAL(int, accept, (int, struct sockaddr *, socklen_t *))
REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int))
REAL(int, pipe, (int *))
REAL(int, pipe2, (int *, int))
REAL(int, eventfd, (unsigned, int))
REAL(int, epoll_create1, (int))
REAL(int, open, (const char *, int, ...))
REAL(int, open64, (const char *, int, ...))
REAL(int, openat, (int, const char *, int, ...))
REAL(int, openat64, (int, const char *, int, ...))
REAL(int, dup, (int))
REAL(int, close, (int))

#define ON() atomic_load_explicit(&g_on, memory_order_relaxed)

EXPORT int socket(int d, int t, int p)
{
    int (*f)(int, int, int) = get_socket();
    int fd = f ? f(d, t, p) : (int)syscall(SYS_socket, d, t, p);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int socketpair(int d, int t, int p, int sv[2])
{
    int (*f)(int, int, int, int *) = get_socketpair();
    int rc = f ? f(d, t, p, sv) : (int)syscall(SYS_socketpair, d, t, p, sv);
    if (rc == 0 && ON()) {
        record(sv[0]);
        record(sv[1]);
    }
    return rc;
}

EXPORT int accept(int s, struct sockaddr *a, socklen_t *l)
{
    int (*f)(int, struct sockaddr *, socklen_t *) = get_accept();
    int fd = f ? f(s, a, l) : (int)syscall(SYS_accept4, s, a, l, 0);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int accept4(int s, struct sockaddr *a, socklen_t *l, int fl)
{
    int (*f)(int, struct sockaddr *, socklen_t *, int) = get_accept4();
    int fd = f ? f(s, a, l, fl) : (int)syscall(SYS_accept4, s, a, l, fl);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int pipe(int p[2])
{
    int (*f)(int *) = get_pipe();
    int rc = f ? f(p) : (int)syscall(SYS_pipe2, p, 0);
    if (rc == 0 && ON()) {
        record(p[0]);
        record(p[1]);
    }
    return rc;
}

EXPORT int pipe2(int p[2], int fl)
{
    int (*f)(int *, int) = get_pipe2();
    int rc = f ? f(p, fl) : (int)syscall(SYS_pipe2, p, fl);
    if (rc == 0 && ON()) {
        record(p[0]);
        record(p[1]);
    }
    return rc;
}

EXPORT int eventfd(unsigned v, int fl)
{
    int (*f)(unsigned, int) = get_eventfd();
    int fd = f ? f(v, fl) : (int)syscall(SYS_eventfd2, v, fl);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int epoll_create1(int fl)
{
    int (*f)(int) = get_epoll_create1();
    int fd = f ? f(fl) : (int)syscall(SYS_epoll_create1, fl);
    if (ON())
        record(fd);
    return fd;
}

static mode_t mode_of(int fl, va_list ap)
{
    return (fl & O_CREAT) || (fl & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    mode_t m = mode_of(fl, ap);
    va_end(ap);
    int (*f)(const char *, int, ...) = get_open();
    int fd = f ? f(path, fl, m) : (int)syscall(SYS_openat, AT_FDCWD, path, fl, m);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int open64(const char *path, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    mode_t m = mode_of(fl, ap);
    va_end(ap);
    int (*f)(const char *, int, ...) = get_open64();
    int fd = f ? f(path, fl, m) : (int)syscall(SYS_openat, AT_FDCWD, path, fl, m);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int openat(int dir, const char *path, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    mode_t m = mode_of(fl, ap);
    va_end(ap);
    int (*f)(int, const char *, int, ...) = get_openat();
    int fd = f ? f(dir, path, fl, m) : (int)syscall(SYS_openat, dir, path, fl, m);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int openat64(int dir, const char *path, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    mode_t m = mode_of(fl, ap);
    va_end(ap);
    int (*f)(int, const char *, int, ...) = get_openat64();
    int fd = f ? f(dir, path, fl, m) : (int)syscall(SYS_openat, dir, path, fl, m);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int dup(int old)
{
    int (*f)(int) = get_dup();
    int fd = f ? f(old) : (int)syscall(SYS_dup, old);
    if (ON())
        record(fd);
    return fd;
}

EXPORT int close(int fd)
{
    /* Cleared even when off: a descriptor recorded while on stays right. */
    if (fd >= 0 && fd < IX_FD_STACK_MAX && atomic_load_explicit(&g_fd[fd], memory_order_relaxed))
        forget(fd);
    int (*f)(int) = get_close();
    return f ? f(fd) : (int)syscall(SYS_close, fd);
}

/* Bound at load, while the process is single-threaded: close() is
 * async-signal-safe and a host may first call it from a signal handler,
 * where dlsym (the loader's lock, malloc) must not run. */
__attribute__((constructor)) static void bind_reals(void)
{
    (void)get_socket(), (void)get_socketpair(), (void)get_accept(), (void)get_accept4();
    (void)get_pipe(), (void)get_pipe2(), (void)get_eventfd(), (void)get_epoll_create1();
    (void)get_open(), (void)get_open64(), (void)get_openat(), (void)get_openat64();
    (void)get_dup(), (void)get_close();
}
#endif
