/* Cost of the sampling handler's work at stack depth ~30: claim a ring
 * record, unwind the interrupted thread (libgcc, the library's unwinder, or
 * libunwind for comparison), publish. Measured inside a real signal handler
 * with CLOCK_MONOTONIC (vDSO) around that work; kernel signal delivery is not
 * included (see the overhead figures for the whole cost).
 *   handler_cost tables|copy|gcc|libunwind|none [samples]
 * none: ring claim/publish and the clock reads only; tables: the profiler's
 * prepared unwind tables on the live stack (perf-signal and timer engines);
 * copy: what the perf engine's ring mode does per sample, here in one place:
 * copy 8 KB of stack from sp (the kernel's part) and walk the copy (the
 * profiling thread's part); gcc: libgcc's _Unwind_Backtrace; libunwind:
 * unw_init_local2 + unw_step. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ucontext.h>

#include "sampling/cpu/perf_ring.h"
#include "sampling/cpu/sample_ring.h"
#include "stack/unwind.h"
#include "stack/unwind_tables.h"

#define MAXS 20000
static struct ix_cpu_ring ring;
static uint64_t cost[MAXS];
static volatile int ncost, want = 5000, use_libunwind;
static uint8_t stack_copy[IX_PERF_STACK_BYTES];
static uintptr_t stack_end; /* end of the main stack's mapping: the copy stops there */

static void find_stack_end(void)
{
    uintptr_t here = (uintptr_t)&here, lo, hi;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && here >= lo && here < hi)
            stack_end = hi;
    if (f)
        fclose(f);
}

/* The ring mode's work for one sample: the kernel's copy, then the walk. */
__attribute__((no_sanitize("address"))) static int unwind_copy(void *ucv, uintptr_t *pcs, int max)
{
    const ucontext_t *uc = ucv;
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    size_t len = stack_end - sp < sizeof stack_copy ? stack_end - sp : sizeof stack_copy;
    memcpy(stack_copy, (const void *)sp, len);
    int cut;
    return ix_unwind_copy((uintptr_t)uc->uc_mcontext.gregs[REG_RIP], sp,
                          (uintptr_t)uc->uc_mcontext.gregs[REG_RBP], stack_copy, len, pcs, max,
                          &cut);
}
static volatile uint64_t sink;
static long depth_sum;

static uint64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int unwind_libunwind(void *uc, uintptr_t *pcs, int max)
{
    unw_cursor_t c;
    if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    int n = 0;
    do {
        unw_word_t ip;
        unw_get_reg(&c, UNW_REG_IP, &ip);
        pcs[n++] = (uintptr_t)ip;
    } while (n < max && unw_step(&c) > 0);
    return n;
}

static void on_prof(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    uint64_t t0 = mono();
    struct ix_cpu_rec *rec = ix_cpu_ring_claim(&ring);
    if (rec) {
        rec->tid = 0;
        rec->weight = 1;
        rec->npcs = use_libunwind == 3 ? unwind_copy(uc, rec->pcs, IX_CPU_MAX_DEPTH)
                    : use_libunwind == 2 ? 1
                    : use_libunwind ? unwind_libunwind(uc, rec->pcs, IX_CPU_MAX_DEPTH)
                                    : ix_unwind_signal(uc, rec->pcs, IX_CPU_MAX_DEPTH);
        depth_sum += rec->npcs;
        ix_cpu_ring_publish(&ring, rec);
        atomic_store(&ring.states[rec - ring.recs], 0); /* consumed at once */
    }
    uint64_t t1 = mono();
    if (ncost < MAXS)
        cost[ncost++] = t1 - t0;
}

__attribute__((noinline)) void deep(int d)
{
    if (d > 0) {
        deep(d - 1);
        sink++;
        return;
    }
    while (ncost < want)
        sink = sink * 6364136223846793005ULL + 1;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "tables";
    use_libunwind = strcmp(mode, "libunwind") == 0 ? 1
                    : strcmp(mode, "none") == 0    ? 2
                    : strcmp(mode, "copy") == 0    ? 3
                                                   : 0;
    find_stack_end();
    if (strcmp(mode, "tables") == 0 || use_libunwind == 3) {
        uint64_t t0 = mono();
        ix_unwind_tables_update();
        uint64_t t1 = mono();
        const struct ix_usnapshot *s = ix_unwind_tables_current();
        unsigned long rows = 0;
        for (uint32_t i = 0; s && i < s->nobjs; i++)
            rows += s->objs[i].nrows;
        printf("tables: %u objects, %lu rows (%lu KB), built in %.1f ms\n", s ? s->nobjs : 0,
               rows, rows * sizeof(struct ix_urow) / 1024, (double)(t1 - t0) / 1e6);
    }
    if (argc > 2)
        want = atoi(argv[2]) < MAXS ? atoi(argv[2]) : MAXS;
    ix_cpu_ring_init(&ring, 64);
    uintptr_t warm[8];
    ix_unwind_here(warm, 8, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    timer_t t;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t);
    struct itimerspec its = {{0, 1000000}, {0, 1000000}};
    timer_settime(t, 0, &its, NULL);
    deep(28); /* + main, __libc_start_call_main, ... ~30 frames */
    timer_delete(t);
    qsort(cost, (size_t)ncost, sizeof cost[0], cmp);
    printf("unwinder=%s samples=%d depth=%.1f median_ns=%llu p90_ns=%llu p99_ns=%llu\n",
           mode, ncost, (double)depth_sum / ncost,
           (unsigned long long)cost[ncost / 2], (unsigned long long)cost[ncost * 9 / 10],
           (unsigned long long)cost[ncost * 99 / 100]);
    return 0;
}
