#include "host/threads.h"
#include "host/release.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int ix_module_depth __attribute__((tls_model("initial-exec")));
__thread int ix_module_own __attribute__((tls_model("initial-exec")));
/* Names for threads created inside nested scopes (the innermost wins). */
#define NAME_DEPTH 8
static __thread const char *t_names[NAME_DEPTH] __attribute__((tls_model("initial-exec")));
static atomic_int g_open_signal;

void ix_module_sigmask(sigset_t *set)
{
    sigfillset(set);
    /* Synchronous: raised by the faulting instruction on its own thread. */
    static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
        sigdelset(set, sync_signals[i]);
    int open = atomic_load(&g_open_signal);
    if (open > 0)
        sigdelset(set, open);
}

void ix_module_open_signal(int sig) { atomic_store(&g_open_signal, sig); }

void ix_signals_block(sigset_t *old)
{
    sigset_t set;
    ix_module_sigmask(&set);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void ix_signals_restore(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

struct start {
    void *(*fn)(void *);
    void *arg;
    char name[16];
};

/* Runs before ThreadSanitizer has set the thread up (TSan's pthread_create
 * wraps ours, so our trampoline runs first): no instrumented code and no
 * intercepted call here, hence the plain copy and the raw prctl system call
 * (no descriptor, and not through the pthread_setname_np interposer below). */
__attribute__((no_sanitize_thread)) static void name_self(const char *name)
{
    char n[16];
    const char *s = name && *name ? name : "introspect";
    size_t i = 0;
    for (; i < sizeof n - 1 && s[i]; i++)
        n[i] = s[i];
    n[i] = '\0';
    syscall(SYS_prctl, PR_SET_NAME, (unsigned long)n, 0UL, 0UL, 0UL);
}

/* libmicrohttpd names its event loop "MHD-single" from the thread itself,
 * after our trampoline named it. A module thread keeps its introspect-*
 * name: a rename to anything else, by the thread itself, is ignored. */
typedef int (*setname_fn)(pthread_t, const char *);
__attribute__((visibility("default"))) int pthread_setname_np(pthread_t th, const char *name)
{
    if (ix_module_depth > 0 && strncmp(name, "introspect", 10) != 0 &&
        pthread_equal(th, pthread_self()))
        return 0;
    static _Atomic(setname_fn) real;
    setname_fn f = atomic_load_explicit(&real, memory_order_acquire);
    if (!f) {
        f = (setname_fn)dlsym(RTLD_NEXT, "pthread_setname_np");
        if (!f)
            return ENOSYS;
        atomic_store_explicit(&real, f, memory_order_release);
    }
    return f(th, name);
}

/* The first code a module thread runs: mark, name, then the real routine.
 * The mask was set by the creator, so no signal can arrive before this. */
__attribute__((no_sanitize_thread)) static void *trampoline(void *p)
{
    ix_module_depth = 1;
    ix_module_own = 1;
    t_names[0] = NULL;
    struct start s = *(struct start *)p;
    free(p);
    name_self(s.name);
    ix_release_bind_thread(); /* jemalloc: the module's arena, not the host's */
    return s.fn(s.arg);
}

int ix_module_thread_create_via(ix_pthread_create_fn real, pthread_t *th,
                                const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    ix_release_prepare();
    sigset_t old;
    ix_signals_block(&old); /* the new thread inherits the creator's mask */
    int rc;
    if (fn == trampoline) { /* ix_module_thread_create, through the interposer */
        rc = real(th, attr, fn, arg);
    } else {
        struct start *s = malloc(sizeof *s);
        if (!s) {
            ix_signals_restore(&old);
            return EAGAIN;
        }
        s->fn = fn;
        s->arg = arg;
        int d = ix_module_depth < NAME_DEPTH ? ix_module_depth : NAME_DEPTH;
        const char *name = d > 0 && t_names[d - 1] ? t_names[d - 1] : "introspect";
        strncpy(s->name, name, sizeof s->name - 1);
        s->name[sizeof s->name - 1] = '\0';
        rc = real(th, attr, trampoline, s);
        if (rc)
            free(s);
    }
    ix_signals_restore(&old);
    return rc;
}

int ix_module_thread_create(pthread_t *th, size_t stack_size, void *(*fn)(void *), void *arg,
                            const char *name)
{
    ix_release_prepare();
    struct start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    strncpy(s->name, name, sizeof s->name - 1);
    s->name[sizeof s->name - 1] = '\0';
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (stack_size)
        pthread_attr_setstacksize(&a, stack_size);
    ix_module_enter(name);
    /* pthread_create may be the interposer (which sees the scope and calls
     * back into ix_module_thread_create_via) or libc's: block here too. */
    sigset_t old;
    ix_signals_block(&old);
    int rc = pthread_create(th, &a, trampoline, s);
    ix_signals_restore(&old);
    ix_module_leave();
    pthread_attr_destroy(&a);
    if (rc)
        free(s);
    return rc;
}

void ix_module_enter(const char *child_name)
{
    int d = ix_module_depth;
    if (d < NAME_DEPTH)
        t_names[d] = child_name ? child_name : d > 0 ? t_names[d - 1] : NULL;
    ix_module_depth = d + 1;
}

void ix_module_leave(void) { ix_module_depth--; }

void ix_module_adopt(const char *name)
{
    if (ix_module_depth > 0)
        return;
    ix_module_depth = 1;
    ix_module_own = 1;
    t_names[0] = NULL;
    ix_signals_block(NULL);
    name_self(name);
}
