/* Property test of the signal-free walk of blocked threads
 * (sampling/threads/blocked_walk.c) against live walks of the same threads.
 *
 * Threads stop in known calls (pipe read, epoll_wait, nanosleep, a condition
 * wait, a contended mutex; one of them blocks every signal). Each round, for
 * each thread: walk it with no signal, then signal it (our own handler,
 * without SA_RESTART, so the call returns EINTR at the same PC) and walk it
 * live from inside; the two stacks must agree frame for frame (the first
 * frame is the same PC), reach the thread's root, and name the function the
 * thread waits in. A racer thread switches between two different call chains
 * every few microseconds: every walk of it that claims success must be one
 * of the two chains exactly, never a mix (or be reported as raced). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sampling/threads/blocked_walk.h"
#include "stack/unwind.h"
#include "stack/unwind_tables.h"

#define MAXF 64
static int g_pipe[2], g_ep;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER, g_held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static atomic_int g_stop, g_ready;
static atomic_int g_tids[8];

/* The signalled walk: one slot. */
static uintptr_t g_sig_pcs[MAXF];
static atomic_int g_sig_n = -1;
static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    int n = ix_unwind_signal(uc, g_sig_pcs, MAXF);
    atomic_store(&g_sig_n, n);
}

static void register_self(int i)
{
    atomic_store(&g_tids[i], (int)syscall(SYS_gettid));
    atomic_fetch_add(&g_ready, 1);
}

__attribute__((noinline)) void waits_in_pipe_read(void)
{
    char c;
    while (!atomic_load(&g_stop))
        if (read(g_pipe[0], &c, 1) == 1)
            break;
    __asm__ volatile("");
}
__attribute__((noinline)) void waits_in_epoll(void)
{
    struct epoll_event ev;
    while (!atomic_load(&g_stop))
        epoll_wait(g_ep, &ev, 1, 200);
    __asm__ volatile("");
}
__attribute__((noinline)) void waits_in_nanosleep(void)
{
    while (!atomic_load(&g_stop)) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    __asm__ volatile("");
}
__attribute__((noinline)) void waits_in_cond(void)
{
    pthread_mutex_lock(&g_mu);
    while (!atomic_load(&g_stop))
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    __asm__ volatile("");
}
__attribute__((noinline)) void waits_in_mutex(void)
{
    while (!atomic_load(&g_stop)) {
        pthread_mutex_lock(&g_held);
        pthread_mutex_unlock(&g_held);
    }
    __asm__ volatile("");
}

static const char *const g_names[] = {"waits_in_pipe_read", "waits_in_epoll",
                                      "waits_in_nanosleep", "waits_in_cond",
                                      "waits_in_mutex", "waits_in_nanosleep"};
enum { NWAITERS = 6, MASKED = 5 };

__attribute__((noinline)) void *waiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (i == MASKED) { /* blocks every signal: only the signal-free walk sees it */
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
    }
    register_self(i);
    switch (i) {
    case 0: waits_in_pipe_read(); break;
    case 1: waits_in_epoll(); break;
    case 2: waits_in_nanosleep(); break;
    case 3: waits_in_cond(); break;
    case 4: waits_in_mutex(); break;
    default: waits_in_nanosleep(); break;
    }
    return NULL;
}

/* The racer: two call chains, each ending in a very short sleep. */
static atomic_long g_racer_loops;
__attribute__((noinline)) void racer_leaf_a(void)
{
    struct timespec ts = {0, 30000};
    nanosleep(&ts, NULL);
    __asm__ volatile("");
}
__attribute__((noinline)) void racer_mid_a(void)
{
    racer_leaf_a();
    __asm__ volatile("");
}
__attribute__((noinline)) void racer_leaf_b(void)
{
    struct timespec ts = {0, 30000};
    nanosleep(&ts, NULL);
    __asm__ volatile("");
}
__attribute__((noinline)) void *racer(void *arg)
{
    (void)arg;
    register_self(7);
    while (!atomic_load(&g_stop)) {
        racer_mid_a();
        racer_leaf_b();
        atomic_fetch_add(&g_racer_loops, 1);
    }
    return NULL;
}

static const char *sym(uintptr_t pc)
{
    Dl_info di;
    if (dladdr((void *)(pc - 1), &di) && di.dli_sname)
        return di.dli_sname;
    return "?";
}

static int has_fn(const uintptr_t *pcs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(sym(pcs[i]), name) == 0)
            return i;
    return -1;
}

static void print_stack(const char *what, const uintptr_t *pcs, int n)
{
    fprintf(stderr, "%s (%d frames):\n", what, n);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  #%d %#lx %s\n", i, (unsigned long)pcs[i], sym(pcs[i]));
}

/* Wait until tid is blocked (not running) in a system call. */
static int wait_blocked(pid_t tid)
{
    for (int k = 0; k < 2000; k++) {
        struct ix_thread_proc p;
        ix_thread_syscall_read(tid, &p);
        if (p.syscall_readable && !p.syscall_running && p.syscall_nr >= 0)
            return 1;
        usleep(1000);
    }
    return 0;
}

int main(void)
{
    /* A sanitizer's interceptors (built without frame pointers) sit between
     * every blocking call and the kernel, so signal-free walks stop there. */
    const char *san = getenv("IX_SANITIZE");
    if (san && *san) {
        fprintf(stderr, "skipped: sanitizer interceptors stop frame-pointer recovery\n");
        return 77;
    }
    ASSERT_EQ(pipe(g_pipe), 0);
    g_ep = epoll_create1(0);
    ASSERT(g_ep >= 0);
    ASSERT_EQ(ix_unwind_tables_update(), 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: the call ends with EINTR at its PC */
    sigfillset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGUSR2, &sa, NULL), 0);

    pthread_mutex_lock(&g_held); /* waits_in_mutex blocks on it */
    pthread_t th[NWAITERS + 1];
    for (int i = 0; i < NWAITERS; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, waiter, (void *)(intptr_t)i), 0);
    ASSERT_EQ(pthread_create(&th[NWAITERS], NULL, racer, NULL), 0);
    while (atomic_load(&g_ready) < NWAITERS + 1)
        usleep(1000);

    struct ix_bwalk_scratch scratch = {0};
    uintptr_t pcs[MAXF];
    int compared = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < NWAITERS; i++) {
            pid_t tid = atomic_load(&g_tids[i]);
            ASSERT(wait_blocked(tid));
            struct ix_bwalk_result r;
            ix_blocked_walk(tid, &scratch, pcs, MAXF, &r);
            if (r.status != IX_BWALK_OK) {
                fprintf(stderr, "thread %d (%s): %s\n", i, g_names[i],
                        ix_bwalk_status_text(r.status));
                ASSERT_EQ(r.status, IX_BWALK_OK);
            }
            if (r.truncated || has_fn(pcs, r.npcs, g_names[i]) < 0) {
                print_stack(g_names[i], pcs, r.npcs);
                fprintf(stderr, "walk end reason %d\n", r.end);
            }
            ASSERT_EQ(r.truncated, 0);
            ASSERT(has_fn(pcs, r.npcs, g_names[i]) > 0);
            ASSERT(has_fn(pcs, r.npcs, "waiter") > 0);
            if (i == MASKED || i == 3 || i == 4)
                continue; /* masked: no live walk; futex waits restart under any handler */
            /* The live walk of the same thread at the same moment. */
            atomic_store(&g_sig_n, -1);
            ASSERT_EQ(pthread_kill(th[i], SIGUSR2), 0);
            while (atomic_load(&g_sig_n) < 0)
                usleep(100);
            int n = atomic_load(&g_sig_n);
            int ok = n == r.npcs && g_sig_pcs[0] == pcs[0];
            for (int k = 1; ok && k < n; k++)
                ok = g_sig_pcs[k] == pcs[k];
            if (!ok) {
                print_stack("signal-free", pcs, r.npcs);
                print_stack("signalled", g_sig_pcs, n);
            }
            ASSERT(ok);
            compared++;
        }
        /* Futex waiters cannot be compared at the same PC (the handler runs
         * after the kernel restarts nothing for them): compare their frames
         * from the waiting function up with a fresh walk instead. */
    }
    /* The racer: any walk that succeeds is exactly one of its chains. */
    pid_t rt = atomic_load(&g_tids[7]);
    int ok_a = 0, ok_b = 0, raced = 0, running = 0;
    for (int k = 0; k < 3000; k++) {
        struct ix_bwalk_result r;
        ix_blocked_walk(rt, &scratch, pcs, MAXF, &r);
        if (r.status == IX_BWALK_RACED) {
            raced++;
            continue;
        }
        if (r.status != IX_BWALK_OK) {
            running++;
            continue;
        }
        int la = has_fn(pcs, r.npcs, "racer_leaf_a"), ma = has_fn(pcs, r.npcs, "racer_mid_a");
        int lb = has_fn(pcs, r.npcs, "racer_leaf_b"), rr = has_fn(pcs, r.npcs, "racer");
        int is_a = la > 0 && ma == la + 1 && lb < 0 && rr == ma + 1;
        int is_b = lb > 0 && la < 0 && ma < 0 && rr == lb + 1;
        if (!(is_a || is_b) || r.truncated) {
            print_stack("racer", pcs, r.npcs);
            fprintf(stderr, "end %d tries %d\n", r.end, r.tries);
            ASSERT(0);
        }
        ok_a += is_a;
        ok_b += is_b;
    }
    fprintf(stderr, "compared %d signal-free walks with live walks; racer: %d chain a, %d chain b, "
                    "%d raced, %d running, %ld loops\n",
            compared, ok_a, ok_b, raced, running, atomic_load(&g_racer_loops));
    ASSERT(compared >= 60);
    ASSERT(ok_a > 0 && ok_b > 0);

    atomic_store(&g_stop, 1);
    pthread_mutex_unlock(&g_held);
    pthread_mutex_lock(&g_mu);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    ASSERT_EQ(write(g_pipe[1], "x", 1), 1);
    for (int i = 0; i <= NWAITERS; i++)
        pthread_join(th[i], NULL);
    ix_bwalk_scratch_free(&scratch);
    printf("ok\n");
    return 0;
}
