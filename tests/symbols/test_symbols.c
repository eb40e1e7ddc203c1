#define _GNU_SOURCE
/* Symbolizer, profile encoders and /debug/pprof/symbol.
 * Built with -O2 -g and linked with the library's objects, so it can
 * symbolize its own static and inlined functions through the internals. */
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "format/encoders.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "format/units.h"
#include "harness.h"
#include "introspect.h"
#include "model/profile.h"
#include "symbolize/symbolizer.h"
#include "symbolize/objects.h"
#include "stack/unwind.h"

/* ---- code to symbolize ---- */

static volatile int sink;
static volatile int inner_line, outer_line;
static uintptr_t captured_ra;
static uintptr_t stack_a[64], stack_b[64];
static int depth_a, depth_b;
static uintptr_t *capture_into;
static int *capture_depth;

static __attribute__((noinline)) void capture(void)
{
    captured_ra = (uintptr_t)__builtin_return_address(0);
    *capture_depth = ix_unwind_here(capture_into, 64, 0);
    __asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) void inner_inline(void)
{
    sink++;
    capture(); inner_line = __LINE__;
    sink++;
}

static __attribute__((noinline)) void outer_noinline(void)
{
    sink += 2;
    inner_inline(); outer_line = __LINE__;
    sink += 3;
}

static __attribute__((noinline)) void static_caller(void)
{
    sink += 5;
    capture();
    sink += 7;
}

static const int static_target_line = __LINE__ + 1;
static __attribute__((noinline)) int static_target(int x) { sink += x; return sink * 2; }

/* ---- helpers ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = s ? strlen(s) : 0, m = strlen(suffix);
    if (n >= m && strcmp(s + n - m, suffix) == 0)
        return 1;
    fprintf(stderr, "\"%s\" does not end with \"%s\"\n", s ? s : "(null)", suffix);
    return 0;
}

static const char *exe_path(void)
{
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ASSERT_GT(n, 0);
    exe[n] = '\0';
    return exe;
}

/* The bytes at the mapping's file offset are the bytes in memory: the
 * mapping's offset is right (code is never relocated in PIC text). */
static void check_file_offset(struct ix_symbolizer *s, uintptr_t addr)
{
    int i = ix_symbolizer_find_mapping(s, addr);
    ASSERT_GE(i, 0);
    const struct ix_mapping_info *m = ix_symbolizer_mapping(s, (size_t)i);
    int fd = open(m->path, O_RDONLY);
    ASSERT_GE(fd, 0);
    unsigned char buf[32];
    ASSERT_EQ(pread(fd, buf, sizeof buf, (off_t)(addr - m->start + m->offset)), sizeof buf);
    close(fd);
    ASSERT_EQ(memcmp(buf, (const void *)addr, sizeof buf), 0);
}

/* dlopen a stripped copy of the test library, check that the stripped
 * part is really gone (`absent` is a section-name pattern readelf -S must
 * not print), and that its static function still gets name, file, line. */
static void split_lib_symbolized(const char *rel, const char *absent)
{
    char path[512], cmd[700], *out = NULL;
    snprintf(path, sizeof path, "%s/%s", IX_SPLIT_DIR, rel);
    snprintf(cmd, sizeof cmd, "readelf -S %s | grep -c '%s'", path, absent);
    ASSERT_EQ(run_cmd(cmd, &out), 1); /* grep -c found none */
    free(out);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    ASSERT(h);
    uintptr_t (*addr_fn)(void) = (uintptr_t (*)(void))dlsym(h, "dbglib_static_addr");
    ASSERT(addr_fn);
    struct ix_symbolizer *s = ix_symbolizer_new();
    struct ix_sym_line l[16];
    ASSERT_GE(ix_symbolize(s, addr_fn(), l, 16), 1);
    ASSERT_STR_EQ(l[0].function, "dbglib_static_fn");
    ASSERT(ends_with(l[0].file, "dbglib.c"));
    ASSERT_GT(l[0].line, 0);
    check_file_offset(s, addr_fn());
    ix_symbolizer_free(s);
    dlclose(h);
}

/* ---- symbolizer ---- */

TEST(static_function_has_name_file_and_line)
{
    struct ix_symbolizer *s = ix_symbolizer_new();
    ASSERT(s);
    struct ix_sym_line l[16];
    ASSERT_EQ(ix_symbolize(s, (uintptr_t)&static_target, l, 16), 1);
    ASSERT_STR_EQ(l[0].function, "static_target");
    ASSERT(ends_with(l[0].file, "test_symbols.c"));
    ASSERT_EQ(l[0].line, static_target_line);
    ix_symbolizer_free(s);
}

TEST(inlined_frames_callee_first)
{
    capture_into = stack_a;
    capture_depth = &depth_a;
    outer_noinline();
    struct ix_symbolizer *s = ix_symbolizer_new();
    struct ix_sym_line l[16];
    int n = ix_symbolize(s, captured_ra - 1, l, 16);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(l[0].function, "inner_inline");
    ASSERT_EQ(l[0].line, inner_line);
    ASSERT(ends_with(l[0].file, "test_symbols.c"));
    ASSERT_STR_EQ(l[1].function, "outer_noinline");
    ASSERT_EQ(l[1].line, outer_line);
    /* Truncation keeps the innermost and the real function. */
    ASSERT_EQ(ix_symbolize(s, captured_ra - 1, l, 1), 1);
    ASSERT_STR_EQ(l[0].function, "outer_noinline");
    ix_symbolizer_free(s);
}

TEST(main_binary_mapping_first_with_build_id)
{
    struct ix_symbolizer *s = ix_symbolizer_new();
    ASSERT_GT(ix_symbolizer_nmappings(s), 1);
    const struct ix_mapping_info *m0 = ix_symbolizer_mapping(s, 0);
    ASSERT_STR_EQ(m0->path, exe_path());
    ASSERT((uintptr_t)&static_target >= m0->start && (uintptr_t)&static_target < m0->limit);
    char cmd[4300], *out = NULL;
    snprintf(cmd, sizeof cmd, "readelf -n '%s' | sed -n 's/.*Build ID: *//p'", exe_path());
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_GE(strlen(m0->build_id), 16);
    ASSERT_STR_CONTAINS(out, m0->build_id);
    free(out);
    check_file_offset(s, (uintptr_t)&static_target);
    check_file_offset(s, (uintptr_t)&getpid); /* a shared object (libc) */
    ix_symbolizer_free(s);
}

/* Debug info stripped, .gnu_debuglink names a file next to the library. */
TEST(debuglink_debug_file_found)
{
    split_lib_symbolized("link/libdbg_link.so", "debug_info");
}

/* Everything stripped (no .symtab either): the static function's name,
 * file and line come from .build-id/xx/rest.debug under the debug root. */
TEST(build_id_debug_file_found)
{
    split_lib_symbolized("bid/libdbg_bid.so", "symtab\\|debug_info");
}

TEST(cxx_names_demangled)
{
    void *h = dlopen(IX_CXXLIB, RTLD_NOW | RTLD_LOCAL);
    ASSERT(h);
    uintptr_t (*addr_fn)(void) = (uintptr_t (*)(void))dlsym(h, "cxxlib_twice_addr");
    ASSERT(addr_fn);
    struct ix_symbolizer *s = ix_symbolizer_new();
    struct ix_sym_line l[16];
    ASSERT_GE(ix_symbolize(s, addr_fn(), l, 16), 1);
    ASSERT_STR_CONTAINS(l[0].function, "ixt::twice(std::");
    ix_symbolizer_free(s);
    dlclose(h);
}

TEST(vdso_and_anonymous_code_are_address_only)
{
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(anon != MAP_FAILED);
    struct ix_symbolizer *s = ix_symbolizer_new();
    struct ix_sym_line l[16];
    int i = ix_symbolizer_find_mapping(s, (uintptr_t)anon + 16);
    ASSERT_GE(i, 0);
    ASSERT_EQ(ix_symbolize(s, (uintptr_t)anon + 16, l, 16), 0);
    ASSERT_EQ(strlen(ix_symbolizer_mapping(s, (size_t)i)->build_id), 0);
    for (size_t k = 0; k < ix_symbolizer_nmappings(s); k++) {
        const struct ix_mapping_info *m = ix_symbolizer_mapping(s, k);
        if (strcmp(m->path, "[vdso]") != 0)
            continue;
        int named = 0; /* names via dladdr: the vDSO is never unmapped */
        for (uintptr_t a = m->start; a < m->limit && !named; a += 4)
            named = ix_symbolize(s, a, l, 16) == 1 && strstr(l[0].function, "time");
        ASSERT(named);
    }
    ASSERT_EQ(ix_symbolize(s, 16, l, 16), 0); /* unmapped */
    ix_symbolizer_free(s);
    munmap(anon, 4096);
}

TEST(cache_shares_objects_across_symbolizers)
{
    struct ix_symbolizer *a = ix_symbolizer_new(), *b = ix_symbolizer_new();
    struct ix_sym_line la[4], lb[4];
    ASSERT_EQ(ix_symbolize(a, (uintptr_t)&static_target, la, 4), 1);
    ASSERT_EQ(ix_symbolize(b, (uintptr_t)&static_target, lb, 4), 1);
    ASSERT(la[0].function == lb[0].function); /* one parsed object */
    ix_symobj_flush(); /* objects in use survive a flush */
    ASSERT_EQ(ix_symbolize(a, (uintptr_t)&static_target, la, 4), 1);
    ASSERT_STR_EQ(la[0].function, "static_target");
    ix_symbolizer_free(a);
    ix_symbolizer_free(b);
    ix_symobj_flush();
    struct ix_symbolizer *c = ix_symbolizer_new();
    ASSERT_EQ(ix_symbolize(c, (uintptr_t)&static_target, la, 4), 1);
    ASSERT_STR_EQ(la[0].function, "static_target");
    ix_symbolizer_free(c);
}

static void *symbolize_loop(void *arg)
{
    for (int i = 0; i < 40; i++) {
        struct ix_symbolizer *s = ix_symbolizer_new();
        struct ix_sym_line l[16];
        ASSERT_EQ(ix_symbolize(s, (uintptr_t)&static_target, l, 16), 1);
        ASSERT_STR_EQ(l[0].function, "static_target");
        ASSERT_EQ(ix_symbolize(s, captured_ra - 1, l, 16), 2);
        ASSERT_STR_EQ(l[1].function, "outer_noinline");
        if (arg)
            ix_symobj_flush();
        ix_symbolizer_free(s);
    }
    return NULL;
}

TEST(concurrent_symbolizers_and_flushes)
{
    capture_into = stack_a;
    capture_depth = &depth_a;
    outer_noinline();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, symbolize_loop, i == 0 ? (void *)1 : NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* Issue 22: parsed objects are memory (libc's inflated DWARF is ~20 MB).
 * Once nothing was looked up for INTROSPECT_SYMBOL_IDLE_S seconds, the
 * module's reaper thread drops the unused ones; an object a symbolizer still
 * holds stays. The wait is bounded generously (a loaded machine may delay
 * the reaper), and nothing is timed. */
TEST(idle_cache_is_dropped)
{
    setenv("INTROSPECT_SYMBOL_IDLE_S", "1", 1);
    ASSERT_EQ(ix_symobj_reaper_start(NULL, NULL, 0), 0); /* as the module's start does */
    struct ix_symbolizer *held = ix_symbolizer_new();
    struct ix_sym_line l[4];
    ASSERT_EQ(ix_symbolize(held, (uintptr_t)&static_target, l, 4), 1);
    ASSERT_GE(ix_symbolize(held, (uintptr_t)&strtol, l, 4), 1); /* libc, DWARF and all */
    size_t before = ix_symobj_cached();
    ASSERT_GE(before, 2);
    sleep(3); /* past the idle period: a symbolizer's objects are never dropped under it */
    ASSERT_EQ(ix_symobj_cached(), before);
    ASSERT_EQ(ix_symbolize(held, (uintptr_t)&static_target, l, 4), 1);
    ASSERT_STR_EQ(l[0].function, "static_target");
    ix_symbolizer_free(held);
    size_t n = before;
    for (int i = 0; i < 600 && n > 0; i++) {
        usleep(100 * 1000);
        n = ix_symobj_cached();
    }
    ASSERT_EQ(n, 0);
    struct ix_symbolizer *s = ix_symbolizer_new(); /* parsed again on demand */
    ASSERT_EQ(ix_symbolize(s, (uintptr_t)&static_target, l, 4), 1);
    ASSERT_STR_EQ(l[0].function, "static_target");
    ix_symbolizer_free(s);
    ix_symobj_reaper_stop(); /* joins the reaper */
}

/* Issue 22: the parsed DWARF of an object (libdw's inflated sections and
 * line tables, our scope trees: tens of MB for libc with libc6-dbg) lives
 * only while a symbolizer holds it; the answers stay, with their own
 * strings. Checked: the same addresses give the same frames after the
 * session is closed (strings owned: ASan would see a dangling one), a new
 * address reopens the file, and malloc's bytes in use after the symbolizer
 * is freed grew by less than 8 MB (the goal; the answers for these
 * ~2,000 addresses take under 1 MB, measured 0.5 MB, and libc's parsed
 * DWARF alone is over 10 MB, so a session left open fails it). mallinfo2
 * counts bytes, not pages: no timing, no RSS noise. */
static size_t malloc_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

TEST(parsed_dwarf_released_answers_kept)
{
    ix_symobj_flush();
    capture_into = stack_a;
    capture_depth = &depth_a;
    outer_noinline();
    size_t before = malloc_in_use();
    struct ix_symbolizer *s = ix_symbolizer_new();
    uintptr_t lo = 0, hi = 0;
    for (size_t i = 0; i < ix_symbolizer_nmappings(s); i++) {
        const struct ix_mapping_info *m = ix_symbolizer_mapping(s, i);
        if (strstr(m->path, "/libc.so") && !lo) {
            lo = m->start;
            hi = m->limit;
        }
    }
    ASSERT(lo && hi > lo);
    enum { N = 2000 };
    static uintptr_t addr[N + 1];
    static struct ix_sym_line first[N + 1];
    static int nfirst[N + 1];
    for (int i = 0; i < N; i++)
        addr[i] = lo + (hi - lo) / N * (uintptr_t)i + 1;
    addr[N] = captured_ra - 1; /* inlined frames of this binary */
    int named = 0;
    for (int i = 0; i <= N; i++) {
        nfirst[i] = ix_symbolize(s, addr[i], &first[i], 1);
        named += nfirst[i] == 1 && first[i].function;
    }
    ASSERT_GT(named, N / 2);
    /* Two objects were parsed in this session: libc and this binary. */
    ix_symbolizer_free(s);
    size_t after = malloc_in_use();
    fprintf(stderr, "malloc in use: %zu before, %zu after (+%zd)\n", before, after,
            (ssize_t)(after - before));
    ASSERT_LT(after > before ? after - before : 0, 8u << 20);
    s = ix_symbolizer_new();
    for (int i = 0; i <= N; i++) {
        struct ix_sym_line l;
        int n = ix_symbolize(s, addr[i], &l, 1);
        ASSERT_EQ(n, nfirst[i]);
        if (n == 1) {
            ASSERT_STR_EQ(l.function, first[i].function);
            ASSERT_EQ(l.line, first[i].line);
            ASSERT((l.file == NULL) == (first[i].file == NULL));
            if (l.file)
                ASSERT_STR_EQ(l.file, first[i].file);
        }
    }
    struct ix_sym_line l[16]; /* not asked before: the file is parsed again */
    ASSERT_EQ(ix_symbolize(s, (uintptr_t)&static_target, l, 16), 1);
    ASSERT_STR_EQ(l[0].function, "static_target");
    ASSERT_EQ(l[0].line, static_target_line);
    ASSERT_EQ(ix_symbolize(s, captured_ra - 1, l, 16), 2);
    ASSERT_STR_EQ(l[0].function, "inner_inline");
    ASSERT_STR_EQ(l[1].function, "outer_noinline");
    ix_symbolizer_free(s);
}

/* The sequence of the PostgreSQL backends' abort (test_server_postgres,
 * "double free or corruption"): a module thread parses objects and closes
 * their sessions (every request does, "keep answers, not parsers" in
 * objects.c) while the host forks, and the child (a process tree's member
 * runs its own instance) symbolizes with the cache it inherited. fork
 * copies the memory, not the thread: a child forked while the thread was
 * inside dwfl_end or a parse must not go on from that half-done state (it
 * freed again what the parent had freed). Each child looks up an address
 * and closes its sessions, bounded by alarm (a hang fails too); 60 forks
 * during the churn. Before the fix most runs lost children to SIGSEGV or
 * SIGABRT (objects.c, ix_symobj_forked). */
static atomic_int churn_stop;
static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&churn_stop)) {
        struct ix_symbolizer *s = ix_symbolizer_new();
        struct ix_sym_line l[16];
        ix_symbolize(s, (uintptr_t)&static_target, l, 16);
        ix_symbolize(s, (uintptr_t)&strtol, l, 16);
        ix_symbolizer_free(s); /* closes the sessions */
        ix_symobj_flush();     /* and the next round parses again */
    }
    return NULL;
}

static void child_after_fork(void) { ix_symobj_forked(); } /* as introspect.c's handler */

#ifndef __has_feature
#define __has_feature(x) 0
#endif
TEST(fork_during_symbolization_child_symbolizes)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                       \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    /* gcc 12's ASan runtime does not hold its allocator's locks across fork
     * (seen: a child blocked in the allocator's region lock the churn thread
     * held); TSan does not support fork of a threaded process. Sanitizer
     * builds also leave INTROSPECT_TREE off, so no child symbolizes there. */
    SKIP("sanitizer runtime allocator is not fork-safe with threads");
#endif
    ASSERT_EQ(pthread_atfork(NULL, NULL, child_after_fork), 0);
    /* elfutils loaded first: a fork in the middle of the churn thread's
     * dlopen of libdw leaves the child a half-loaded libelf (another
     * hazard, not the one replayed here; the child then runs without
     * symbols and says so). */
    struct ix_symbolizer *warm = ix_symbolizer_new();
    struct ix_sym_line wl[16];
    ASSERT_EQ(ix_symbolize(warm, (uintptr_t)&static_target, wl, 16), 1);
    ix_symbolizer_free(warm);
    atomic_store(&churn_stop, 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, churn, NULL), 0);
    int bad = 0;
    for (int i = 0; i < 60; i++) {
        usleep((useconds_t)(2000 + (i * 7919) % 20000)); /* spread over the thread's phases */
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            alarm(60);
            struct ix_symbolizer *s = ix_symbolizer_new();
            struct ix_sym_line l[16];
            int ok = s && ix_symbolize(s, (uintptr_t)&static_target, l, 16) == 1 &&
                     strcmp(l[0].function, "static_target") == 0;
            ix_symbolizer_free(s);
            ix_symobj_flush();
            _exit(ok ? 0 : 3);
        }
        int st = 0;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "child %d: %s %d\n", i, WIFEXITED(st) ? "exit" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            bad++;
        }
    }
    atomic_store(&churn_stop, 1);
    pthread_join(t, NULL);
    ASSERT_EQ(bad, 0);
}

/* Both gzip engines (libdeflate when present, zlib) give a stream zlib
 * inflates back to the input. */
static void check_gunzip(const ix_buf *gz, const unsigned char *in, size_t n)
{
    unsigned char *back = malloc(n + 1);
    z_stream z = {0};
    ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz->data;
    z.avail_in = (uInt)gz->len;
    z.next_out = back;
    z.avail_out = (uInt)n + 1;
    ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    ASSERT_EQ(z.total_out, n);
    ASSERT(memcmp(back, in, n) == 0);
    inflateEnd(&z);
    free(back);
}

TEST(gzip_engines_round_trip)
{
    size_t n = 3 << 20;
    unsigned char *in = malloc(n);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) { /* half text-like, half random */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        in[i] = i % 2 ? (unsigned char)x : (unsigned char)('a' + (i / 7) % 26);
    }
    ix_buf a, b;
    ix_buf_init(&a);
    ix_buf_init(&b);
    ASSERT_EQ(ix_gzip(in, n, &a), 0);
    ASSERT_EQ(ix_gzip_zlib(in, n, &b), 0);
    check_gunzip(&a, in, n);
    check_gunzip(&b, in, n);
    if (dlopen("libdeflate.so.0", RTLD_NOW | RTLD_NOLOAD) || access("/usr/lib/x86_64-linux-gnu/libdeflate.so.0", R_OK) == 0)
        ASSERT_STR_EQ(ix_gzip_engine(), "libdeflate");
    ix_buf_reset(&a);
    ASSERT_EQ(ix_gzip("", 0, &a), 0); /* empty input */
    check_gunzip(&a, (const unsigned char *)"", 0);
    ix_buf_free(&a);
    ix_buf_free(&b);
    free(in);
}

/* ---- units ---- */

TEST(units_pretty_print)
{
    char t[48];
    ix_fmt_value(t, sizeof t, 1500000000, "nanoseconds");
    ASSERT_STR_EQ(t, "1.50s");
    ix_fmt_value(t, sizeof t, 10000000, "nanoseconds");
    ASSERT_STR_EQ(t, "10ms");
    ix_fmt_value(t, sizeof t, 512, "nanoseconds");
    ASSERT_STR_EQ(t, "512ns");
    ix_fmt_value(t, sizeof t, 3 * 1048576 / 2, "bytes");
    ASSERT_STR_EQ(t, "1.50MB");
    ix_fmt_value(t, sizeof t, 2048, "bytes");
    ASSERT_STR_EQ(t, "2kB");
    ix_fmt_value(t, sizeof t, -2048, "bytes");
    ASSERT_STR_EQ(t, "-2kB");
    ix_fmt_value(t, sizeof t, 42, "count");
    ASSERT_STR_EQ(t, "42");
    ix_fmt_percent(t, sizeof t, 3, 4);
    ASSERT_STR_EQ(t, "75.00%");
}

/* ---- encoders on a synthetic profile of real stacks ---- */

static void build_profile(struct ix_profile *p)
{
    capture_into = stack_a;
    capture_depth = &depth_a;
    outer_noinline();
    capture_into = stack_b;
    capture_depth = &depth_b;
    static_caller();
    ASSERT(depth_a > 3 && depth_b > 3);
    ix_profile_init(p, "profile");
    ix_profile_add_type(p, "samples", "count");
    ix_profile_add_type(p, "cpu", "nanoseconds");
    p->period_type = (struct ix_value_type){"cpu", "nanoseconds"};
    p->period = 10000000;
    p->duration_nanos = 1000000000;
    p->time_nanos = 1764230000000000000LL;
    ix_profile_comment(p, "engine=test");
    struct ix_label lab[2] = {{"thread", "worker-1", 0, NULL}, {"tid", NULL, 4242, NULL}};
    int64_t a[2] = {3, 30000000}, b[2] = {2, 20000000};
    ASSERT_EQ(ix_profile_add(p, stack_a, depth_a, a, lab, 2), 0);
    ASSERT_EQ(ix_profile_add(p, stack_a, depth_a, a, lab, 2), 0); /* merged */
    ASSERT_EQ(ix_profile_add(p, stack_b, depth_b, b, lab, 2), 0);
    ASSERT_EQ(p->nsamples, 2);
}

static void check_resolved_view_dedupes_and_flags_truthfully(const struct ix_resolved *r)
{
    for (size_t i = 0; i < r->nfunctions; i++)
        for (size_t k = i + 1; k < r->nfunctions; k++)
            ASSERT(strcmp(r->functions[i].name, r->functions[k].name) != 0 ||
                   (r->functions[i].filename && r->functions[k].filename &&
                    strcmp(r->functions[i].filename, r->functions[k].filename)));
    ASSERT_STR_EQ(r->mappings[0].filename, exe_path());
    /* Flags say what every location of the mapping has (_start, from crt1,
     * has a name but no line: the main binary can lack line numbers). */
    int all_lines = 1, any = 0;
    for (size_t i = 0; i < r->nlocations; i++)
        if (r->locations[i].mapping == 1) {
            any = 1;
            ASSERT_GT(r->locations[i].nlines, 0);
            all_lines &= r->locations[i].lines[0].line > 0;
        }
    ASSERT(any && r->mappings[0].has_functions);
    ASSERT_EQ(r->mappings[0].has_line_numbers, all_lines);
    ASSERT_EQ(r->mappings[0].has_inline_frames, all_lines);
    for (size_t m = 1; m < r->nmappings; m++) { /* unused mappings claim nothing */
        int used = 0;
        for (size_t i = 0; i < r->nlocations; i++)
            used |= r->locations[i].mapping == m + 1;
        if (!used)
            ASSERT(!r->mappings[m].has_functions);
    }
}

static char *encode_pprof_file(const struct ix_resolved *r)
{
    ix_buf gz;
    ix_buf_init(&gz);
    ASSERT_EQ(ix_pprof_encode(r, &gz), 0);
    char *path = strdup(write_temp("symbols.pb.gz", gz.data, gz.len));
    ix_buf_free(&gz);
    return path;
}

static void check_pprof_decodes_and_shows_names(const struct ix_resolved *r)
{
    char *path = encode_pprof_file(r);
    char cmd[1024], *out = NULL;
    const char *proto = getenv("IX_PROFILE_PROTO");
    ASSERT(proto);
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode perftools.profiles.Profile -I $(dirname %s) %s",
             path, proto, proto);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "\"static_caller\"");
    ASSERT_STR_CONTAINS(out, "\"inner_inline\"");
    free(out);
    snprintf(cmd, sizeof cmd,
             "HOME=/tmp PPROF_TMPDIR=/tmp go tool pprof -top -sample_index=cpu %s 2>&1", path);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "inner_inline");
    ASSERT_STR_CONTAINS(out, "outer_noinline");
    ASSERT_STR_CONTAINS(out, "static_caller");
    ASSERT_STR_CONTAINS(out, "75.00%"); /* outer_noinline: 60ms of 80ms cum */
    free(out);
    unlink(path);
    free(path);
}

static void check_folded_merges_root_first(const struct ix_resolved *r)
{
    ix_buf b;
    ix_buf_init(&b);
    ASSERT_EQ(ix_folded_encode(r, 1, &b), 0);
    ASSERT_STR_CONTAINS(b.data, "outer_noinline;inner_inline;capture 60000000\n");
    ASSERT_STR_CONTAINS(b.data, "static_caller;capture 20000000\n");
    const char *m = strstr(b.data, "main;");
    ASSERT(m && m < strstr(b.data, "static_caller;"));
    int lines = 0;
    for (const char *c = b.data; *c; c++)
        lines += *c == '\n';
    ASSERT_EQ(lines, 2);
    ix_buf_reset(&b);
    ASSERT_EQ(ix_folded_encode(r, 0, &b), 0);
    ASSERT_STR_CONTAINS(b.data, "inner_inline;capture 6\n");
    ASSERT_LT(ix_folded_encode(r, 7, &b), 0);
    ix_buf_free(&b);
}

static const char json_check_py[] =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1]))\n"
    "fn = [f['name'] for f in d['functions']]\n"
    "assert d['name'] == 'profile' and d['default_sample_type'] == 1, d['name']\n"
    "assert d['sample_types'][1] == {'type': 'cpu', 'unit': 'nanoseconds'}\n"
    "assert d['mappings'][0]['file'] == sys.argv[2]\n"
    "assert d['mappings'][0]['has_functions'] is True\n"
    "assert d['comments'] == ['engine=test']\n"
    "assert len(d['samples']) == 2\n"
    "stacks = {}\n"
    "for s in d['samples']:\n"
    "    names = []\n"
    "    for li in s['locations']:\n"
    "        loc = d['locations'][li]\n"
    "        int(loc['address'], 16)\n"
    "        assert -1 <= loc['mapping'] < len(d['mappings'])\n"
    "        names += [fn[l['function']] for l in loc['lines']] or [loc['address']]\n"
    "    assert s['labels'] == {'thread': 'worker-1', 'tid': 4242}, s['labels']\n"
    "    stacks[tuple(names[:3])] = s['values']\n"
    "assert stacks[('capture', 'inner_inline', 'outer_noinline')] == [6, 60000000], stacks\n"
    "assert [v for k, v in stacks.items() if k[:2] == ('capture', 'static_caller')] == [[2, 20000000]]\n"
    "print('ok')\n";

static void check_json_parses_with_right_stacks(const struct ix_resolved *r)
{
    ix_buf b;
    ix_buf_init(&b);
    ASSERT_EQ(ix_profile_json_encode(r, &b), 0);
    char *json = strdup(write_temp("symbols.json", b.data, b.len));
    const char *py = write_temp("check.py", json_check_py, strlen(json_check_py));
    char cmd[1200], *out = NULL;
    snprintf(cmd, sizeof cmd, "python3 %s %s '%s' 2>&1", py, json, exe_path());
    int rc = run_cmd(cmd, &out);
    if (rc)
        fprintf(stderr, "%s\n", out);
    ASSERT_EQ(rc, 0);
    free(out);
    unlink(json);
    free(json);
    ix_buf_free(&b);
}

static void check_text_shows_top_and_stacks(const struct ix_resolved *r)
{
    ix_buf b;
    ix_buf_init(&b);
    ASSERT_EQ(ix_text_top_encode(r, 1, &b), 0);
    ASSERT_STR_CONTAINS(b.data, "profile: profile\n");
    ASSERT_STR_CONTAINS(b.data, "cpu/nanoseconds (shown)");
    ASSERT_STR_CONTAINS(b.data, "total: 80ms in 2 stacks\n");
    ASSERT_STR_CONTAINS(b.data, "# engine=test\n");
    ASSERT_STR_CONTAINS(b.data, "functions by flat");
    ASSERT_STR_CONTAINS(b.data, "80ms 100.00% 100.00%       80ms 100.00%  capture\n"); /* capture: all flat */
    ASSERT_STR_CONTAINS(b.data, "75.00%  outer_noinline\n");
    ASSERT_STR_CONTAINS(b.data, "functions by cumulative");
    ASSERT_STR_CONTAINS(b.data, "60ms  75.00%  (6 samples)\n");
    ASSERT_STR_CONTAINS(b.data, "inner_inline");
    ASSERT_STR_CONTAINS(b.data, "(inline)\n");
    ix_buf_free(&b);
}

/* Build the synthetic profile, resolve it, hand it to one encoder's check. */
static void with_resolved(void (*check)(const struct ix_resolved *r))
{
    struct ix_profile p;
    build_profile(&p);
    struct ix_resolved r;
    ASSERT_OK(ix_profile_resolve(&p, &r));
    check(&r);
    ix_resolved_free(&r);
    ix_profile_free(&p);
}

TEST(resolved_view_dedupes_and_flags_truthfully) { with_resolved(check_resolved_view_dedupes_and_flags_truthfully); }
TEST(pprof_decodes_and_shows_names) { with_resolved(check_pprof_decodes_and_shows_names); }
TEST(folded_merges_root_first) { with_resolved(check_folded_merges_root_first); }
TEST(json_parses_with_right_stacks) { with_resolved(check_json_parses_with_right_stacks); }
TEST(text_shows_top_and_stacks) { with_resolved(check_text_shows_top_and_stacks); }

/* ---- /debug/pprof/symbol over HTTP ---- */

static void check_symbol_endpoint(int port)
{
    struct http_reply rep;
    ASSERT_EQ(http_get(port, "/debug/pprof/symbol", &rep), 0);
    ASSERT_EQ(rep.status, 200);
    ASSERT_STR_EQ(rep.body, "num_symbols: 1\n");
    http_reply_free(&rep);

    capture_into = stack_a;
    capture_depth = &depth_a;
    outer_noinline();
    char addrs[128], target[256], want1[96], want2[96];
    snprintf(addrs, sizeof addrs, "0x%lx+0x%lx", (unsigned long)(uintptr_t)&static_target,
             (unsigned long)(captured_ra - 1));
    snprintf(want1, sizeof want1, "0x%lx static_target\n", (unsigned long)(uintptr_t)&static_target);
    snprintf(want2, sizeof want2, "0x%lx inner_inline\n", (unsigned long)(captured_ra - 1));
    snprintf(target, sizeof target, "/debug/pprof/symbol?%s", addrs);
    ASSERT_EQ(http_get(port, target, &rep), 0);
    ASSERT_EQ(rep.status, 200);
    ASSERT_EQ(strncmp(rep.body, "num_symbols: 1\n", 15), 0);
    ASSERT_STR_CONTAINS(rep.body, want1);
    ASSERT_STR_CONTAINS(rep.body, want2);
    http_reply_free(&rep);

    ASSERT_EQ(http_request(port, "POST", "/debug/pprof/symbol", NULL, addrs, strlen(addrs), &rep), 0);
    ASSERT_EQ(rep.status, 200);
    ASSERT_STR_CONTAINS(rep.body, want1);
    ASSERT_STR_CONTAINS(rep.body, want2);
    http_reply_free(&rep);

    /* Unknown addresses are left out. */
    ASSERT_EQ(http_request(port, "POST", "/debug/pprof/symbol", NULL, "0x0+0x10", 8, &rep), 0);
    ASSERT_EQ(rep.status, 200);
    ASSERT_STR_EQ(rep.body, "num_symbols: 1\n");
    http_reply_free(&rep);

    ASSERT_EQ(http_get(port, "/debug/pprof/symbol?0xzz+0x10", &rep), 0);
    ASSERT_EQ(rep.status, 400);
    ASSERT_STR_CONTAINS(rep.body, "malformed address");
    ASSERT_STR_CONTAINS(http_header(&rep, "X-Go-Pprof"), "1");
    http_reply_free(&rep);

    size_t n = 10001;
    char *many = malloc(n * 4 + 1), *w = many;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s0x1", i ? "+" : "");
    ASSERT_EQ(http_request(port, "POST", "/debug/pprof/symbol", NULL, many, strlen(many), &rep), 0);
    ASSERT_EQ(rep.status, 400);
    ASSERT_STR_CONTAINS(rep.body, "too many addresses");
    http_reply_free(&rep);
    free(many);
}

/* `go tool pprof -symbolize=remote` on a profile whose main-binary mapping
 * is unsymbolized (has_functions false, no lines) posts its addresses to
 * /debug/pprof/symbol next to the profile's URL. A small Python server
 * serves the profile and forwards /debug/pprof/symbol to ours, logging
 * each forwarded request. */
static const char proxy_py[] =
    "import http.server, sys, urllib.request\n"
    "ours, profile, log = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def forward(self, body):\n"
    "        url = 'http://127.0.0.1:%s/debug/pprof/symbol' % ours\n"
    "        if '?' in self.path: url += '?' + self.path.split('?', 1)[1]\n"
    "        data = urllib.request.urlopen(url, data=body, timeout=20).read()\n"
    "        open(log, 'a').write('%s %d\\n' % (self.command, len(data)))\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(data)\n"
    "    def do_GET(self):\n"
    "        if self.path.startswith('/debug/pprof/symbol'): return self.forward(None)\n"
    "        data = open(profile, 'rb').read()\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Type', 'application/octet-stream'); self.end_headers()\n"
    "        self.wfile.write(data)\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length', 0))\n"
    "        self.forward(self.rfile.read(n))\n"
    "    def log_message(self, *a): pass\n"
    "srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "print(srv.server_address[1], flush=True)\n"
    "srv.timeout = 30\n"
    "while True: srv.handle_request()\n";

static void check_pprof_symbolizes_remotely(int port)
{
    struct ix_profile p;
    build_profile(&p);
    struct ix_resolved r;
    ASSERT_EQ(ix_profile_resolve(&p, &r), 0);
    for (size_t i = 0; i < r.nlocations; i++) /* forget the main binary's symbols */
        if (r.locations[i].mapping == 1)
            r.locations[i].nlines = 0;
    r.mappings[0].has_functions = r.mappings[0].has_filenames = 0;
    r.mappings[0].has_line_numbers = r.mappings[0].has_inline_frames = 0;
    char *prof = encode_pprof_file(&r);
    const char *py = write_temp("proxy.py", proxy_py, strlen(proxy_py));
    char *log = strdup(write_temp("proxy.log", "", 0));
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "d=$(mktemp -d); timeout 60 python3 %s %d %s %s > $d/port & pid=$!; "
             "for i in $(seq 100); do [ -s $d/port ] && break; sleep 0.1; done; "
             "HOME=$d PPROF_TMPDIR=$d timeout 60 go tool pprof -symbolize=remote -top "
             "http://127.0.0.1:$(cat $d/port)/debug/pprof/fake 2>&1; rc=$?; "
             "kill $pid; rm -rf $d; exit $rc",
             py, port, prof, log);
    int rc = run_cmd(cmd, &out);
    if (rc || getenv("IX_VERBOSE"))
        fprintf(stderr, "%s\n", out);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_CONTAINS(out, "static_caller");
    ASSERT_STR_CONTAINS(out, "inner_inline"); /* one name per address: the innermost */
    ASSERT_STR_CONTAINS(out, "capture");
    free(out);
    snprintf(cmd, sizeof cmd, "cat %s", log);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    ASSERT_STR_CONTAINS(out, "POST"); /* pprof really asked us */
    free(out);
    unlink(prof);
    unlink(log);
    unlink(py);
    free(prof);
    free(log);
    ix_resolved_free(&r);
    ix_profile_free(&p);
}

TEST(symbol_endpoint)
{
    int port = start_ephemeral();
    check_symbol_endpoint(port);
    ASSERT_OK(introspect_stop());
}

TEST(pprof_symbolizes_remotely)
{
    int port = start_ephemeral();
    check_pprof_symbolizes_remotely(port);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(static_function_has_name_file_and_line),
    TEST_ENTRY(inlined_frames_callee_first),
    TEST_ENTRY(main_binary_mapping_first_with_build_id),
    TEST_ENTRY(debuglink_debug_file_found),
    TEST_ENTRY(build_id_debug_file_found),
    TEST_ENTRY(cxx_names_demangled),
    TEST_ENTRY(vdso_and_anonymous_code_are_address_only),
    TEST_ENTRY(cache_shares_objects_across_symbolizers),
    TEST_ENTRY(idle_cache_is_dropped),
    TEST_ENTRY(fork_during_symbolization_child_symbolizes),
    TEST_ENTRY(parsed_dwarf_released_answers_kept),
    TEST_ENTRY(gzip_engines_round_trip),
    TEST_ENTRY(concurrent_symbolizers_and_flushes),
    TEST_ENTRY(units_pretty_print),
    TEST_ENTRY(resolved_view_dedupes_and_flags_truthfully),
    TEST_ENTRY(pprof_decodes_and_shows_names),
    TEST_ENTRY(folded_merges_root_first),
    TEST_ENTRY(json_parses_with_right_stacks),
    TEST_ENTRY(text_shows_top_and_stacks),
    TEST_ENTRY(symbol_endpoint),
    TEST_ENTRY(pprof_symbolizes_remotely),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    /* Read once, at the first symbolization: the build-id test's debug root
     * goes first, the system's after it. */
    setenv("INTROSPECT_DEBUGINFO_PATH", "-:.debug:" IX_SPLIT_DIR "/debugroot:/usr/lib/debug", 1);
    return ix_run_tests(argc, argv, tests);
}
