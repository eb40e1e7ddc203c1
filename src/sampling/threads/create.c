#include "sampling/threads/create.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "host/threads.h"
#include "stack/unwind.h"

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static struct ix_stack_table g_stacks = IX_STACK_TABLE_INIT(IX_THREAD_CREATE_STACKS);
static _Atomic uint64_t g_created, g_exited, g_failed;
static _Atomic(pthread_create_fn) g_real;
static pthread_key_t g_exit_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_key_ok;
/* Exits per creating stack (index = stack id), so live threads can be
 * counted by where they were created: created (the table's count) - exited. */
static _Atomic uint64_t g_exited_at[IX_THREAD_CREATE_STACKS];

/* Hooks a sampler sets to run in every new thread before its start routine
 * and at its exit (the CPU profiler arms threads this way). */
static void (*_Atomic g_begin_hook)(void *start_fn);
static void (*_Atomic g_end_hook)(void);

void ix_thread_set_hooks(void (*begin)(void *start_fn), void (*end)(void))
{
    atomic_store(&g_begin_hook, begin);
    atomic_store(&g_end_hook, end);
}

/* The key's value is the creating stack's id + 2 (1 = stack unknown). */
/* The key's value is the creating stack's id + 2 (1 = stack unknown). */
static void on_thread_exit(void *v)
{
    void (*end)(void) = atomic_load_explicit(&g_end_hook, memory_order_acquire);
    if (end)
        end(); /* a CPU profile accounts the thread's last CPU */
    atomic_fetch_add_explicit(&g_exited, 1, memory_order_relaxed);
    uintptr_t id = (uintptr_t)v;
    if (id >= 2 && id - 2 < IX_THREAD_CREATE_STACKS)
        atomic_fetch_add_explicit(&g_exited_at[id - 2], 1, memory_order_relaxed);
}

static void init_once(void)
{
    g_key_ok = pthread_key_create(&g_exit_key, on_thread_exit) == 0;
}

struct start {
    void *(*fn)(void *);
    void *arg;
    int stack; /* creating stack id, -1 unknown */
};

/* Not instrumented: under ThreadSanitizer, TSan's own pthread_create wraps
 * ours, so this runs before TSan has set the new thread up. For the same
 * reason the begin hook (instrumented, and locking through TSan's
 * interceptors) is not called there: it crashed in __tsan_func_entry of a
 * thread TSan had not set up yet, whenever a CPU profile or a trace with
 * CPU samples ran while a thread started. Under TSan a new thread is armed
 * by the profiler's next rescan (at most ~10 ms later) instead. */
__attribute__((no_sanitize_thread)) static void *start_wrapper(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    if (g_key_ok)
        pthread_setspecific(g_exit_key, (void *)(uintptr_t)(s.stack + 2));
#if !defined(__SANITIZE_THREAD__)
    void (*begin)(void *) = atomic_load_explicit(&g_begin_hook, memory_order_acquire);
    if (begin)
        begin((void *)s.fn); /* during a CPU profile: sampled from here on */
#endif
    return s.fn(s.arg);
}

static pthread_create_fn real_create(void)
{
    pthread_create_fn f = atomic_load_explicit(&g_real, memory_order_acquire);
    if (!f) {
        f = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        atomic_store_explicit(&g_real, f, memory_order_release);
    }
    return f;
}

/* The interposer. Exported with default visibility so it takes the place of
 * libc's for every object the dynamic linker resolves after us. */
__attribute__((visibility("default"))) int pthread_create(pthread_t *th,
                                                           const pthread_attr_t *attr,
                                                           void *(*fn)(void *), void *arg)
{
    pthread_create_fn real = real_create();
    if (!real)
        return EAGAIN;
    /* The module's own threads (and those libmicrohttpd makes for it) are
     * not the host's: born masked and named, never counted here. */
    if (ix_in_module())
        return ix_module_thread_create_via(real, th, attr, fn, arg);
    pthread_once(&g_once, init_once);
    uintptr_t pcs[IX_STACK_MAX_FRAMES];
    int n = ix_unwind_here(pcs, IX_STACK_MAX_FRAMES, 1); /* from the caller */
    ix_module_enter(NULL); /* our bookkeeping's allocations are not the host's */
    int id = ix_stack_intern(&g_stacks, pcs, n, 0); /* the id first: the thread carries it */
    struct start *s = malloc(sizeof *s);
    ix_module_leave();
    int rc;
    if (s) {
        s->fn = fn;
        s->arg = arg;
        s->stack = id;
        rc = real(th, attr, start_wrapper, s);
    } else { /* cannot wrap: still create it; its exit goes uncounted */
        rc = real(th, attr, fn, arg);
    }
    if (rc) {
        free(s);
        atomic_fetch_add_explicit(&g_failed, 1, memory_order_relaxed);
        return rc;
    }
    atomic_fetch_add_explicit(&g_created, 1, memory_order_relaxed);
    if (id >= 0) /* (a full table counted the drop when asked for the id) */
        ix_stack_add(&g_stacks, id, 1);
    return 0;
}

void ix_thread_create_counters(uint64_t *created, uint64_t *exited, uint64_t *failed)
{
    *created = atomic_load(&g_created);
    *exited = atomic_load(&g_exited);
    *failed = atomic_load(&g_failed);
}

struct ix_stack_table *ix_thread_create_stacks(void) { return &g_stacks; }

static void fork_prepare(void) { pthread_mutex_lock(&g_stacks.lock); }
static void fork_parent(void) { pthread_mutex_unlock(&g_stacks.lock); }
static void fork_child(void) { pthread_mutex_init(&g_stacks.lock, NULL); }
static void fork_register(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

void ix_thread_create_fork_safe(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fork_register);
}

uint64_t ix_thread_create_exited_at(int id)
{
    if (id < 0 || id >= IX_THREAD_CREATE_STACKS)
        return 0;
    return atomic_load_explicit(&g_exited_at[id], memory_order_relaxed);
}
