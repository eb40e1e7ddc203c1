/* The module's threads, and the module's work on the host's threads.
 *
 * A module thread must not change what the host sees (DESIGN.md, principle 2):
 *  - signals: it is born with every asynchronous signal blocked (the mask is
 *    set on the attribute, or in the creating thread around pthread_create,
 *    so there is no window), so a process-directed signal the host's main
 *    thread blocks (SIGCHLD, SIGHUP, SIGTERM, SIGIO ...) is never delivered
 *    to it and the host's handler never runs there. Synchronous signals
 *    (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) stay open so a fault
 *    still reaches the host's crash handler, and so does the thread-dump
 *    signal once the module's own handler owns it (docs/signals.md);
 *  - name: it carries an `introspect-*` name (15 characters at most) in
 *    /proc/self/task/<tid>/comm, so `top -H` and thread dumps tell it apart;
 *  - heap: it is marked in thread-local storage from its first instruction,
 *    and the heap sampler leaves its allocations out of profiles and counts.
 *
 * Threads a library creates for us (libmicrohttpd's event loop) are made
 * inside a module scope: the pthread_create interposer
 * (sampling/threads/create.c) sees the scope and starts them through the
 * same trampoline. Module work on a host thread (the constructor,
 * introspect_start/stop, the pthread_create interposer's bookkeeping) runs
 * inside a scope too, so its allocations are not the host's either. */
#ifndef IX_HOST_THREADS_H
#define IX_HOST_THREADS_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

/* > 0 on module threads (for their whole life) and on a host thread while it
 * runs module code. Read by the heap sampler's slow path: one TLS load. */
extern __thread int ix_module_depth __attribute__((tls_model("initial-exec")));

/* 1 on the module's own threads, from their first instruction. */
extern __thread int ix_module_own __attribute__((tls_model("initial-exec")));

static inline int ix_in_module(void) { return ix_module_depth > 0; }
static inline int ix_module_thread(void) { return ix_module_own; }

/* Create a module thread named `name` (<= 15 chars), every asynchronous
 * signal blocked from birth; stack_size 0 = default. Returns 0 or an errno. */
int ix_module_thread_create(pthread_t *th, size_t stack_size, void *(*fn)(void *), void *arg,
                            const char *name);

/* Module work on the calling thread; threads created meanwhile (by a library
 * we call) become module threads named child_name (NULL: "introspect"). Nests. */
void ix_module_enter(const char *child_name);
void ix_module_leave(void);

/* Mark the calling thread as a module thread and name it, if not done yet
 * (for threads a library made outside a scope; cheap when already marked). */
void ix_module_adopt(const char *name);

/* Block every asynchronous signal on the calling thread (old mask in *old). */
void ix_signals_block(sigset_t *old);
void ix_signals_restore(const sigset_t *old);
/* The mask module threads are born with. */
void ix_module_sigmask(sigset_t *set);
/* The module's own handler owns sig (the dump signal): module threads born
 * from now on leave it open. 0 closes it again. */
void ix_module_open_signal(int sig);

/* For the pthread_create interposer: called when the creating thread is in
 * the module; creates through `real` with the module's trampoline. */
typedef int (*ix_pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                    void *);
int ix_module_thread_create_via(ix_pthread_create_fn real, pthread_t *th,
                                const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

#endif
