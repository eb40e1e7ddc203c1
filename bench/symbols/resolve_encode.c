/* Resolve + encode a CPU-like profile of 10,000 distinct stacks (depth 24)
 * whose PCs are spread over the text of this binary (DWARF, inlines) and of
 * libc (its DWARF when libc6-dbg is installed, else symbols only), cold
 * (parsed-object cache flushed) and warm.
 * Prints one line per run and the medians. Usage: bench_symbols [runs] [stacks] [cold]
 * ("cold": only the cold resolve + pprof runs, e.g. under perf record;
 * "mem": resident memory and malloc's in-use bytes at each step of one cold
 * profile, the cache kept, trimmed, then flushed). */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "format/encoders.h"
#include "format/pprof.h"
#include "model/profile.h"
#include "symbolize/symbolizer.h"
#include "symbolize/objects.h"

#define DEPTH 24
#define POOL 20000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Distinct PCs from the executable mappings of the binary and libc. */
static size_t pc_pool(uintptr_t *pool);
static void pc_pool_fill(uintptr_t *pool) { pc_pool(pool); }
static size_t pc_pool(uintptr_t *pool)
{
    struct ix_symbolizer *s = ix_symbolizer_new();
    uintptr_t lo[8], hi[8];
    int n = 0;
    for (size_t i = 0; i < ix_symbolizer_nmappings(s) && n < 8; i++) {
        const struct ix_mapping_info *m = ix_symbolizer_mapping(s, i);
        if (i == 0 || strstr(m->path, "/libc.so")) {
            lo[n] = m->start;
            hi[n++] = m->limit;
        }
    }
    ix_symbolizer_free(s);
    for (size_t i = 0; i < POOL; i++) {
        int k = (int)(next_rand() % (uint64_t)n);
        pool[i] = lo[k] + 1 + next_rand() % (hi[k] - lo[k] - 1);
    }
    return POOL;
}

static void build(struct ix_profile *p, const uintptr_t *pool, int nstacks)
{
    ix_profile_init(p, "profile");
    ix_profile_add_type(p, "samples", "count");
    ix_profile_add_type(p, "cpu", "nanoseconds");
    p->period_type = (struct ix_value_type){"cpu", "nanoseconds"};
    p->period = 10000000;
    struct ix_label lab[2] = {{"thread", "worker", 0, NULL}, {"tid", NULL, 42, NULL}};
    for (int i = 0; i < nstacks; i++) {
        uintptr_t pcs[DEPTH];
        for (int d = 0; d < DEPTH; d++) /* shared roots, distinct leaves */
            pcs[d] = pool[d < DEPTH - 6 ? (size_t)(next_rand() % POOL) : (size_t)(d * 37 % POOL)];
        int64_t v[2] = {1 + (int64_t)(next_rand() % 50), 0};
        v[1] = v[0] * 10000000;
        ix_profile_add(p, pcs, DEPTH, v, lab, 2);
    }
}

static int only_cold;

/* VmRSS and malloc's bytes in use, in MB. */
static void mem_step(const char *what)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    struct mallinfo2 mi = mallinfo2();
    printf("%-34s rss %6.1f MB  malloc in use %6.1f MB  arena %6.1f MB  mmapped %6.1f MB\n", what,
           rss * (double)sysconf(_SC_PAGESIZE) / 1048576, mi.uordblks / 1048576.0,
           mi.arena / 1048576.0, mi.hblkhd / 1048576.0);
}

static void pc_pool_fill(uintptr_t *pool);

/* One profile served: resolve + pprof, CPU ms. */
static double serve(const struct ix_profile *p, const char *what)
{
    double t0 = now_ms();
    struct ix_resolved r;
    if (ix_profile_resolve(p, &r))
        exit(1);
    ix_buf b;
    ix_buf_init(&b);
    ix_pprof_encode(&r, &b);
    double t = now_ms() - t0;
    mem_step(what);
    ix_buf_free(&b);
    ix_resolved_free(&r);
    return t;
}

static void build(struct ix_profile *p, const uintptr_t *pool, int nstacks);

static void mem_profile(const struct ix_profile *p, int nstacks)
{
    mem_step("profile built, nothing parsed");
    struct ix_resolved r;
    double t0 = now_ms();
    if (ix_profile_resolve(p, &r))
        exit(1);
    double t1 = now_ms();
    mem_step("first profile resolved");
    ix_buf b;
    ix_buf_init(&b);
    ix_pprof_encode(&r, &b);
    double t2 = now_ms();
    mem_step("pprof encoded");
    ix_buf_free(&b);
    ix_resolved_free(&r);
    mem_step("answer freed (cache kept)");
    double same = serve(p, "same stacks again (answer held)");
    static uintptr_t pool2[POOL];
    pc_pool_fill(pool2); /* other random PCs: mostly new addresses */
    struct ix_profile p2;
    build(&p2, pool2, nstacks);
    double fresh = serve(&p2, "new stacks (answer held)");
    ix_profile_free(&p2);
    ix_symobj_flush();
    malloc_trim(0);
    mem_step("cache flushed + malloc_trim");
    printf("CPU ms: first profile %.1f (resolve %.1f + pprof %.1f), same stacks again %.1f, "
           "new stacks %.1f\n", t2 - t0, t1 - t0, t2 - t1, same, fresh);
}

struct times {
    double resolve, pprof, json, folded, text;
};
static long g_faults[2]; /* page faults of the last run's resolve and pprof */

static struct times run(const struct ix_profile *p, int cold, size_t *sizes)
{
    struct times t;
    if (cold)
        ix_symobj_flush();
    struct ix_resolved r;
    long f0 = minflt();
    double t0 = now_ms();
    if (ix_profile_resolve(p, &r)) {
        fprintf(stderr, "resolve failed\n");
        exit(1);
    }
    double t1 = now_ms();
    long f1 = minflt();
    ix_buf b;
    ix_buf_init(&b);
    ix_pprof_encode(&r, &b);
    sizes[0] = b.len;
    double t2 = now_ms();
    g_faults[0] = f1 - f0;
    g_faults[1] = minflt() - f1;
    if (only_cold) {
        sizes[4] = r.nlocations;
        sizes[5] = r.nfunctions;
        ix_buf_free(&b);
        ix_resolved_free(&r);
        return (struct times){t1 - t0, t2 - t1, 0, 0, 0};
    }
    ix_buf_reset(&b);
    ix_profile_json_encode(&r, &b);
    sizes[1] = b.len;
    double t3 = now_ms();
    ix_buf_reset(&b);
    ix_folded_encode(&r, 1, &b);
    sizes[2] = b.len;
    double t4 = now_ms();
    ix_buf_reset(&b);
    ix_text_top_encode(&r, 1, &b);
    sizes[3] = b.len;
    double t5 = now_ms();
    sizes[4] = r.nlocations;
    sizes[5] = r.nfunctions;
    ix_buf_free(&b);
    ix_resolved_free(&r);
    t = (struct times){t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4};
    return t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    int nstacks = argc > 2 ? atoi(argv[2]) : 10000;
    only_cold = argc > 3 && strcmp(argv[3], "cold") == 0;
    if (runs < 1 || runs > 100 || nstacks < 1)
        return 2;
    static uintptr_t pool[POOL];
    pc_pool(pool);
    struct ix_profile p;
    build(&p, pool, nstacks);
    if (argc > 3 && strcmp(argv[3], "mem") == 0) {
        mem_profile(&p, nstacks);
        ix_profile_free(&p);
        return 0;
    }
    size_t sizes[6] = {0};
    double v[2][5][100];
    for (int cold = 1; cold >= only_cold; cold--) {
        if (!cold)
            run(&p, 0, sizes); /* prime the warm cache */
        for (int i = 0; i < runs; i++) {
            struct times t = run(&p, cold, sizes);
            if (cold && i == 0) /* a fresh process: what a server's first profile pays */
                printf("first cold run: resolve %.2f ms (%ld page faults), pprof %.2f ms (%ld)\n",
                       t.resolve, g_faults[0], t.pprof, g_faults[1]);
            double *f = &t.resolve;
            for (int k = 0; k < 5; k++)
                v[cold][k][i] = f[k];
        }
    }
    printf("stacks=%zu locations=%zu functions=%zu depth=%d runs=%d\n", p.nsamples, sizes[4],
           sizes[5], DEPTH, runs);
    printf("sizes: pprof.gz=%zu json=%zu folded=%zu text=%zu bytes\n", sizes[0], sizes[1],
           sizes[2], sizes[3]);
    const char *names[5] = {"resolve", "pprof", "json", "folded", "text"};
    printf("%-8s %10s %10s\n", "step", "cold_ms", "warm_ms");
    for (int k = 0; k < 5; k++)
        printf("%-8s %10.2f %10.2f\n", names[k], median(v[1][k], runs),
               only_cold ? 0.0 : median(v[0][k], runs));
    ix_profile_free(&p);
    return 0;
}
