/* The table-driven stack walk (stack/unwind_tables.h) agrees with
 * libgcc's _Unwind_Backtrace on real stacks: recursion in this program and
 * frames inside libc's qsort (no frame pointers), sampled by a CPU timer
 * signal at random points. The same walk over a copy of the stack (what the
 * perf engine's rings hold) agrees with the live one as far as the copy
 * reaches (each recursion level here has a 2 KB frame, so most copies end
 * early). Built from the library's sources (internal API). */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include "harness.h"
#include "stack/unwind.h"
#include "stack/unwind_tables.h"

#define MAXD 64
static volatile int nsamples, nmismatch, nfull, ncopy_mismatch, ncopy_cut;
static uint8_t stack_copy[8192];
static uintptr_t stack_end;

static void find_stack_end(void)
{
    uintptr_t here = (uintptr_t)&here, lo, hi;
    FILE *f = fopen("/proc/self/maps", "r");
    ASSERT(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && here >= lo && here < hi)
            stack_end = hi;
    fclose(f);
    ASSERT(stack_end);
}

/* Walk a copy of the interrupted stack, as the perf engine does with the
 * kernel's copy: every frame it finds is the live walk's. */
__attribute__((no_sanitize("address"))) static void check_copy(const ucontext_t *uc,
                                                               const uintptr_t *live, int nlive)
{
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP], copied[MAXD];
    size_t len = stack_end - sp < sizeof stack_copy ? stack_end - sp : sizeof stack_copy;
    /* word by word: ASan intercepts memcpy whatever the attribute says */
    for (size_t i = 0; i + sizeof(uintptr_t) <= len; i += sizeof(uintptr_t)) {
        uintptr_t w = *(const volatile uintptr_t *)(sp + i);
        memcpy(stack_copy + i, &w, sizeof w);
    }
    int cut = 0;
    int n = ix_unwind_copy((uintptr_t)uc->uc_mcontext.gregs[REG_RIP], sp,
                           (uintptr_t)uc->uc_mcontext.gregs[REG_RBP], stack_copy, len, copied,
                           MAXD, &cut);
    cut &= IX_COPY_CUT;
    ncopy_cut += cut;
    if (n > nlive || memcmp(copied, live, (size_t)n * sizeof copied[0]) != 0 ||
        (!cut && n != nlive)) {
        ncopy_mismatch++;
        Dl_info di;
        if (dladdr((void *)(copied[0] - 1), &di) && di.dli_sname)
            fprintf(stderr, "leaf in %s+%#lx (%s)\n", di.dli_sname,
                    (unsigned long)(copied[0] - 1 - (uintptr_t)di.dli_saddr), di.dli_fname);
        fprintf(stderr, "copy walk %d frames (cut %d), live %d; leaf %#lx, copy[1] %#lx, live[1] %#lx\n",
                n, cut, nlive, (unsigned long)copied[0], (unsigned long)(n > 1 ? copied[1] : 0),
                (unsigned long)(nlive > 1 ? live[1] : 0));
    }
}
static volatile uint64_t sink;

struct walk {
    uintptr_t *pcs;
    int n, max;
    uintptr_t want;
    int started;
};

static _Unwind_Reason_Code on_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    int before = 0;
    uintptr_t ip = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
    if (!ip)
        return _URC_END_OF_STACK;
    if (!w->started) {
        if (!(before && ip == w->want))
            return _URC_NO_REASON;
        w->started = 1;
        w->pcs[w->n++] = ip + 1;
        return _URC_NO_REASON;
    }
    w->pcs[w->n++] = ip;
    return w->n < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

static void on_prof(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    uintptr_t fast[MAXD], slow[MAXD];
    int nf = ix_unwind_signal(uc, fast, MAXD);
    check_copy(uc, fast, nf);
    struct walk w = {slow, 0, MAXD, (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP], 0};
    _Unwind_Backtrace(on_frame, &w);
    int ns = w.n;
    nsamples++;
    int n = nf < ns ? nf : ns;
    if (nf == ns)
        nfull++;
    /* libgcc may go one frame further at the outermost frame (or stop
     * earlier); every frame both found must be the same. */
    if (memcmp(fast, slow, (size_t)n * sizeof fast[0]) != 0 || nf < ns - 1)
        nmismatch++;
}

static int cmp_slow(const void *a, const void *b)
{
    for (int i = 0; i < 200; i++)
        sink = sink * 6364136223846793005ULL + 1;
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

__attribute__((noinline)) void recurse_then_sort(int d)
{
    if (d > 0) {
        recurse_then_sort(d - 1);
        sink++;
        return;
    }
    int v[512];
    for (int i = 0; i < 512; i++)
        v[i] = (int)((unsigned)rand() % 1000);
    qsort(v, 512, sizeof v[0], cmp_slow);
}

/* SIGPROF on this thread's CPU clock while it recurses and sorts; each
 * handler compares the table walk with libgcc's (on_prof). */
/* ThreadSanitizer runs a signal's handler later, at a point of its own, on
 * a stack of its own: the handler's walk then describes TSan, not the code
 * the signal interrupted, so the comparison means nothing there. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

static void compare_with_libgcc(void)
{
    if (UNDER_TSAN)
        return;
    nsamples = nmismatch = nfull = ncopy_mismatch = ncopy_cut = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_t t;
    ASSERT_EQ(timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t), 0);
    struct itimerspec its = {{0, 997000}, {0, 997000}};
    timer_settime(t, 0, &its, NULL);
    for (int round = 0; nsamples < 1000 && round < 100000; round++)
        recurse_then_sort(round % 25);
    timer_delete(t);
    printf("samples %d, same depth %d, mismatches %d; walks of stack copies: %d mismatches, "
           "%d cut at 8 KB\n", nsamples, nfull, nmismatch, ncopy_mismatch, ncopy_cut);
    ASSERT_GE(nsamples, 200);
    ASSERT_EQ(nmismatch, 0);
    ASSERT_EQ(ncopy_mismatch, 0);
}

TEST(table_unwinder_agrees_with_libgcc_in_signal_handler)
{
    if (UNDER_TSAN)
        SKIP("ThreadSanitizer defers signal handlers (see compare_with_libgcc)");
    find_stack_end();
    ASSERT_EQ(ix_unwind_tables_update(), 0);
    ASSERT(ix_unwind_tables_current() != NULL);
    compare_with_libgcc();
}

/* 1 while a thread of this process is named `name`. */
static int thread_named(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "grep -qx %s /proc/%d/task/*/comm", name, (int)getpid());
    return system(cmd) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Issue 22: the tables (MBs in a real server) are freed once no sampler has
 * held them for INTROSPECT_UNWIND_IDLE_S, never while one holds them, and the
 * next holder builds them again. The reaper thread ends after the grace
 * period, having freed every row (under ASan, a walk of a freed row fails). */
TEST(idle_tables_are_dropped_and_built_again)
{
    find_stack_end();
    setenv("INTROSPECT_UNWIND_IDLE_S", "1", 1);
    ix_unwind_tables_start();
    ASSERT_EQ(ix_unwind_tables_hold(), 0);
    const struct ix_usnapshot *held = ix_unwind_tables_current();
    ASSERT(held != NULL);
    ASSERT_EQ(ix_unwind_tables_hold(), 0); /* two holders: the first to let go keeps them */
    ix_unwind_tables_unhold();
    sleep_ms(2500);
    ASSERT(ix_unwind_tables_current() == held);
    ix_unwind_tables_unhold();
    for (int i = 0; i < 600 && ix_unwind_tables_current(); i++)
        sleep_ms(100);
    ASSERT(ix_unwind_tables_current() == NULL);
    for (int i = 0; i < 600 && thread_named("introspect-unw"); i++)
        sleep_ms(100);
    ASSERT(!thread_named("introspect-unw"));
    ASSERT_EQ(ix_unwind_tables_hold(), 0);
    ASSERT(ix_unwind_tables_current() != NULL);
    compare_with_libgcc();
    ix_unwind_tables_unhold();
    ix_unwind_tables_stop(); /* joins the reaper started by the unhold */
    ASSERT(!thread_named("introspect-unw"));
}

static const struct ix_test tests[] = {
    TEST_ENTRY(table_unwinder_agrees_with_libgcc_in_signal_handler),
    TEST_ENTRY(idle_tables_are_dropped_and_built_again),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}

