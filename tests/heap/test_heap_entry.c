/* Every allocation entry point through the interposer, at rate 1 (every
 * allocation sampled) and off: alignment honoured, contents kept by realloc
 * of sampled and unsampled pointers, malloc_usable_size right for both,
 * errno kept by free, exact bytes in the profile, fork with sampling
 * threads running, exact counts across thread exits. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <introspect.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap_test_util.h"
#include "workload.h"

#define ALIGNED(p, a) (((uintptr_t)(p) & ((a) - 1)) == 0)

/* Sampling every allocation (rate 1). */
static int start_rate1(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 1;
    ASSERT_OK(introspect_start(&cfg));
    return introspect_port();
}

static void fill_check(void *p, size_t n, int byte)
{
    ASSERT(p != NULL);
    size_t u = malloc_usable_size(p);
    ASSERT(u >= n);
    memset(p, byte, u); /* the whole usable size is ours to write */
}

/* Live blocks from one function, to find them in the profile. */
#define NHOLD 9
void *g_hold[NHOLD];
size_t g_hold_bytes;

__attribute__((noinline)) void hold_blocks(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g_hold[0] = malloc(100);
    g_hold[1] = calloc(10, 30);
    g_hold[2] = realloc(NULL, 50);
    g_hold[3] = reallocarray(NULL, 7, 10);
    ASSERT_EQ(posix_memalign(&g_hold[4], 64, 200), 0);
    g_hold[5] = aligned_alloc(128, 256);
    g_hold[6] = memalign(4096, 1000);
    g_hold[7] = valloc(300);
    g_hold[8] = pvalloc(1);
    g_hold_bytes = 100 + 300 + 50 + 70 + 200 + 256 + 1000 + 300 + page;
    ASSERT(ALIGNED(g_hold[4], 64) && ALIGNED(g_hold[5], 128) && ALIGNED(g_hold[6], 4096));
    ASSERT(ALIGNED(g_hold[7], page) && ALIGNED(g_hold[8], page));
    ASSERT(malloc_usable_size(g_hold[8]) >= page);
    for (size_t i = 0; i < 300; i++)
        ASSERT_EQ(((unsigned char *)g_hold[1])[i], 0);
    for (int i = 0; i < NHOLD; i++)
        fill_check(g_hold[i], 1, 0x5a);
}

__attribute__((noinline)) void *grow_block(void *p, size_t n)
{
    void *q = realloc(p, n);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
    return q;
}

static long long inuse_bytes_of(int port, const char *fn)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/heap", &r), 0);
    ASSERT_EQ(r.status, 200);
    char args[512];
    snprintf(args, sizeof args, "-sample_index=inuse_space %s", write_temp("heap", r.body, r.body_len));
    http_reply_free(&r);
    struct top_row rows[200];
    int n = pprof_top(args, rows, 200, NULL);
    return row_value(rows, n, fn);
}

TEST(allocation_errors_and_edges_behave_as_glibc)
{
    start_rate1();
    void *p = (void *)1;
    ASSERT_EQ(posix_memalign(&p, 3, 10), EINVAL);
    ASSERT_EQ(posix_memalign(&p, 4, 10), EINVAL); /* not a multiple of sizeof(void *) */
    ASSERT(p == (void *)1);
    volatile size_t odd = 24; /* volatile: compilers reject a constant non-power of two */
    void *volatile got; /* volatile: compilers may fold "allocation == NULL" to false */
    errno = 0;
    got = aligned_alloc(odd, 48);
    ASSERT(got == NULL && errno == EINVAL);
    void *m = memalign(odd, 10); /* glibc rounds up to 32 */
    ASSERT(m && ALIGNED(m, 32));
    free(m);
    volatile size_t huge = SIZE_MAX / 2; /* volatile: the overflow is checked at run time */
    errno = 0;
    got = calloc(huge, 4);
    ASSERT(got == NULL && errno == ENOMEM);
    errno = 0;
    got = reallocarray(NULL, huge, 4);
    ASSERT(got == NULL && errno == ENOMEM);
    void *z = malloc(0);
    free(z);
    free(NULL);
    ASSERT_EQ(malloc_usable_size(NULL), 0);
    void *q = malloc(10);
    void *r = realloc(q, 0); /* glibc frees and returns NULL; others a minimal block */
    free(r);
    ASSERT_OK(introspect_stop());
}

TEST(realloc_keeps_contents_and_free_keeps_errno)
{
    start_rate1();
    unsigned char *p = malloc(64);
    for (int i = 0; i < 64; i++)
        p[i] = (unsigned char)i;
    p = realloc(p, 100000); /* grow: moves */
    for (int i = 0; i < 64; i++)
        ASSERT(p[i] == (unsigned char)i);
    p = realloc(p, 10); /* shrink */
    for (int i = 0; i < 10; i++)
        ASSERT(p[i] == (unsigned char)i);
    fill_check(p, 10, 1);
    int e = 1234;
    errno = e;
    free(p);
    ASSERT_EQ(errno, e);
    ASSERT_OK(introspect_stop());
}

static void *churner(void *arg)
{
    churn(200000, (unsigned)(uintptr_t)arg);
    return NULL;
}

TEST(fork_while_allocating_children_exit_cleanly)
{
    start_rate1();
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, churner, (void *)1), 0);
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20);
            churn(2000, 3);
            char *s = strdup("child");
            free(s);
            _exit(0);
        }
        ASSERT_GT(pid, 0);
        int st;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT(WIFEXITED(st));
        ASSERT_EQ(WEXITSTATUS(st), 0);
    }
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_OK(introspect_stop());
}

static long long vars_number(int port, const char *key)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    char want[64];
    snprintf(want, sizeof want, "\"%s\":", key);
    const char *at = strstr(r.body, want);
    ASSERT(at);
    long long v = atoll(at + strlen(want));
    http_reply_free(&r);
    return v;
}

static void *thousand(void *arg)
{
    (void)arg;
    churn(1000, 9); /* 1000 mallocs, 1000 frees */
    return NULL;
}

TEST(malloc_counts_survive_thread_exit)
{
    int port = start_rate1();
    long long m0 = vars_number(port, "Mallocs"), f0 = vars_number(port, "Frees");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, thousand, NULL), 0);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    long long m1 = vars_number(port, "Mallocs"), f1 = vars_number(port, "Frees");
    printf("counts: mallocs +%lld frees +%lld\n", m1 - m0, f1 - f0);
    ASSERT_GE(m1 - m0, 4000);
    ASSERT_GE(f1 - f0, 4000);
    ASSERT_OK(introspect_stop());
}

/* TotalAlloc is derived from what each thread's countdown was charged
 * (internal.h): exact across sample points, thread exit and readers racing
 * the owner's resets of its countdown. */
#define TOTAL_ROUNDS 1000000
static atomic_int g_total_done;
static size_t g_total_expected;

static void *charge_known_bytes(void *arg)
{
    (void)arg;
    void *(*volatile m)(size_t) = malloc; /* not folded into a no-op pair */
    size_t sum = 0;
    for (int i = 0; i < TOTAL_ROUNDS; i++) {
        size_t n = 1 + (size_t)i * 7919 % 3000;
        free(m(n));
        sum += n;
    }
    g_total_expected = sum;
    atomic_store(&g_total_done, 1);
    return NULL;
}

/* TotalAlloc read without allocating (the harness's client would add its
 * own reply buffer, whose size moves with the body): a raw HTTP/1.0 GET
 * into a static buffer. */
static long long total_alloc_noalloc(int port)
{
    static char buf[1 << 20];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    static const char req[] = "GET /debug/vars HTTP/1.0\r\n\r\n";
    ASSERT_EQ(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    const char *at = strstr(buf, "\"TotalAlloc\":");
    ASSERT(at);
    return atoll(at + strlen("\"TotalAlloc\":"));
}

TEST(total_alloc_exact_and_monotonic_across_sample_points)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 4096; /* a sample point every ~2 allocations here */
    ASSERT_OK(introspect_start(&cfg));
    int port = introspect_port();
    for (int round = 0; round < 2; round++) {
        long long t0 = total_alloc_noalloc(port), last = t0;
        atomic_store(&g_total_done, 0);
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, charge_known_bytes, NULL), 0);
        int reads = 0;
        while (round == 1 && !atomic_load(&g_total_done)) { /* round 1: read while it runs */
            long long t = total_alloc_noalloc(port);
            ASSERT_GE(t, last); /* never backwards, never torn */
            last = t;
            reads++;
        }
        ASSERT_EQ(pthread_join(th, NULL), 0);
        long long delta = total_alloc_noalloc(port) - t0;
        printf("TotalAlloc +%lld for %zu bytes requested (%d reads while it ran)\n", delta,
               g_total_expected, reads);
        /* What remains is the thread's start (glibc's TLS block, < 1 KiB). */
        long long rest = delta - (long long)g_total_expected;
        ASSERT_GE(rest, 0);
        ASSERT_LE(rest, 1024);
    }
    ASSERT_OK(introspect_stop());
}

static const char *object_of(void *(*f)(size_t))
{
    Dl_info di;
    void *addr;
    memcpy(&addr, &f, sizeof addr);
    return dladdr(addr, &di) && di.dli_fname ? di.dli_fname : "?";
}

static int body_has(int port, const char *path, const char *needle)
{
    struct http_reply r;
    ASSERT_EQ(http_get(port, path, &r), 0);
    ASSERT_EQ(r.status, 200);
    int has = strstr(r.body, needle) != NULL;
    http_reply_free(&r);
    return has;
}

/* Sampling off: the program's malloc is the allocator's own (its GOT slot
 * was pointed past us), and the exact counts are not served; sampling on
 * again: back through us, counted. */
TEST(sampling_off_stands_the_interposer_aside)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 0;
    ASSERT_OK(introspect_start(&cfg));
    int port = introspect_port();
    void *(*volatile m)(size_t) = malloc; /* read through the GOT now */
    printf("sampling off: malloc is %s's\n", object_of(m));
    ASSERT(strstr(object_of(m), "libintrospect") == NULL);
    void *p = m(100);
    fill_check(p, 100, 3);
    free(p);
    int counted = body_has(port, "/debug/vars", "\"HeapProfiler\":\"tcmalloc_hooks\"");
    ASSERT_EQ(body_has(port, "/metrics", "introspect_heap_mallocs_total"), counted);
    ASSERT_OK(introspect_stop());

    cfg.heap_rate = 1;
    ASSERT_OK(introspect_start(&cfg));
    m = malloc;
    printf("sampling on: malloc is %s's\n", object_of(m));
    if (!body_has(port = introspect_port(), "/debug/vars", "\"HeapProfiler\":\"tcmalloc_hooks\""))
        ASSERT(strstr(object_of(m), "libintrospect") != NULL);
    ASSERT(body_has(port, "/metrics", "introspect_heap_mallocs_total"));
    long long m0 = vars_number(port, "Mallocs");
    churn(1000, 5);
    ASSERT_GE(vars_number(port, "Mallocs") - m0, 1000);
    ASSERT_OK(introspect_stop());
}

/* An unsampled pointer from before a restart grows into a sampled one; at
 * rate 1 the in-use bytes per function are exact and follow realloc. */
TEST(inuse_bytes_exact_at_rate_1_and_follow_realloc)
{
    alarm(200);
    /* Sampling off: an unsampled pointer from before the (re)start. */
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 0;
    ASSERT_EQ(introspect_start(&cfg), 0);
    unsigned char *old = malloc(48);
    memset(old, 7, 48);
    fill_check(old, 48, 7);
    ASSERT_EQ(introspect_stop(), 0);

    cfg.heap_rate = 1; /* every allocation */
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    /* A thread notices a new rate within 64 KiB of its own allocations. */
    churn(300, 1);
    old = grow_block(old, 4000); /* unsampled -> sampled */
    for (int i = 0; i < 48; i++)
        ASSERT_EQ(old[i], 7);
    ASSERT_GE(malloc_usable_size(old), 4000);

    hold_blocks();
    long long got = inuse_bytes_of(port, "hold_blocks");
    printf("hold_blocks: %lld bytes in use, truth %zu\n", got, g_hold_bytes);
    ASSERT_EQ(got, (long long)g_hold_bytes); /* rate 1: exact */
    ASSERT_EQ(inuse_bytes_of(port, "grow_block"), 4000);

    /* realloc of a sampled pointer: the sample moves to the caller of realloc. */
    g_hold[0] = grow_block(g_hold[0], 5000);
    ASSERT_EQ(inuse_bytes_of(port, "grow_block"), 9000);
    ASSERT_EQ(inuse_bytes_of(port, "hold_blocks"), (long long)g_hold_bytes - 100);
    for (int i = 0; i < NHOLD; i++)
        free(g_hold[i]);
    free(old);
    ASSERT_EQ(inuse_bytes_of(port, "hold_blocks"), 0);
    ASSERT_EQ(inuse_bytes_of(port, "grow_block"), 0);

    ASSERT_EQ(vars_number(port, "HeapSampleRate"), 1);
    ASSERT_EQ(introspect_stop(), 0);
}

/* Issue 22: the set of sampled pointers starts at 4096 slots and is rebuilt
 * (grown, or cleared of tombstones) while other threads free through it.
 * At rate 1 every block is a sample: 4 threads each keep 6,000 live blocks
 * (24,000 in all, so the table grows several times) while freeing and
 * reallocating 200,000 more; then every live block must be known and every
 * freed one forgotten, exactly. */
#define HOLDERS 4
#define HELD 6000
static void *holder(void *arg)
{
    void **held = arg;
    uint64_t x = (uintptr_t)arg | 1;
    for (int i = 0; i < HELD; i++)
        held[i] = malloc(24);
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % HELD);
        free(held[k]);
        held[k] = malloc(24);
    }
    return NULL;
}

TEST(sampled_set_rebuilds_under_concurrent_frees)
{
    alarm(250);
    int port = start_rate1();
    long long s0 = vars_number(port, "HeapSamples");
    static void *held[HOLDERS][HELD];
    pthread_t th[HOLDERS];
    for (int i = 0; i < HOLDERS; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, holder, held[i]), 0);
    for (int i = 0; i < HOLDERS; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    long long s1 = vars_number(port, "HeapSamples");
    printf("live samples: %lld more (truth %d), dropped %lld\n", s1 - s0, HOLDERS * HELD,
           vars_number(port, "HeapSamplesDropped"));
    ASSERT_EQ(vars_number(port, "HeapSamplesDropped"), 0);
    ASSERT_GE(s1 - s0, HOLDERS * HELD - 50); /* the module's own churn may move a few */
    ASSERT(s1 - s0 <= HOLDERS * HELD + 50);
    for (int i = 0; i < HOLDERS; i++)
        for (int k = 0; k < HELD; k++)
            free(held[i][k]);
    long long s2 = vars_number(port, "HeapSamples");
    printf("after freeing them: %lld\n", s2 - s0);
    ASSERT(s2 - s0 <= 50 && s2 - s0 >= -50);
    ASSERT_OK(introspect_stop());
}

/* 20,000 live blocks of distinct sizes: 20,000 buckets, so the bucket
 * index grows twice (from 4096 heads) while samples arrive; every byte is
 * still found under its function. */
#define NSIZES 20000
static void *g_sized[NSIZES];

__attribute__((noinline)) static size_t hold_sizes(void)
{
    size_t total = 0;
    for (size_t i = 0; i < NSIZES; i++) {
        g_sized[i] = malloc(i + 1);
        ASSERT(g_sized[i] != NULL);
        total += i + 1;
    }
    return total;
}

TEST(bucket_index_grows_with_distinct_sizes)
{
    int port = start_rate1();
    churn(300, 1); /* a thread notices a new rate within 64 KiB of its own allocations */
    size_t total = hold_sizes();
    long long got = inuse_bytes_of(port, "hold_sizes");
    printf("hold_sizes: %lld bytes in use, truth %zu\n", got, total);
    ASSERT_EQ(got, (long long)total);
    for (size_t i = 0; i < NSIZES; i++)
        free(g_sized[i]);
    ASSERT_EQ(inuse_bytes_of(port, "hold_sizes"), 0);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(sampled_set_rebuilds_under_concurrent_frees),
    TEST_ENTRY(inuse_bytes_exact_at_rate_1_and_follow_realloc),
    TEST_ENTRY(allocation_errors_and_edges_behave_as_glibc),
    TEST_ENTRY(realloc_keeps_contents_and_free_keeps_errno),
    TEST_ENTRY(fork_while_allocating_children_exit_cleanly),
    TEST_ENTRY(malloc_counts_survive_thread_exit),
    TEST_ENTRY(total_alloc_exact_and_monotonic_across_sample_points),
    TEST_ENTRY(sampling_off_stands_the_interposer_aside),
    TEST_ENTRY(bucket_index_grows_with_distinct_sizes),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    skip_if_sanitized();
    return ix_run_tests(argc, argv, tests);
}
