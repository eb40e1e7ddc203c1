#define _GNU_SOURCE
#include "workload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct lw_config g_c;
static uint64_t g_rng;
static void **g_leaked, **g_cache, **g_sessions;
static size_t g_nleaked, g_capleaked, g_ncache;
static int *g_fds;
static size_t g_nfds, g_capfds;
static pthread_t *g_threads;
static size_t g_nthreads, g_capthreads;
static pthread_mutex_t g_park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_park_cond = PTHREAD_COND_INITIALIZER;
static int g_release;
static volatile uint64_t g_sink;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void push(void ***a, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *a = realloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = p;
}

__attribute__((noinline)) void *leak_request_buffer(size_t n)
{
    char *p = malloc(n);
    memset(p, 1, n);
    return p;
}

__attribute__((noinline)) void *churn_parse_header(size_t n)
{
    char *p = malloc(n);
    p[0] = 1;
    return p;
}

__attribute__((noinline)) void *churn_render_body(size_t n)
{
    char *p = malloc(n);
    p[0] = 2;
    return p;
}

__attribute__((noinline)) void *cache_insert(size_t n)
{
    char *p = malloc(n);
    memset(p, 3, n);
    return p;
}

__attribute__((noinline)) void *session_create(size_t n)
{
    char *p = malloc(n);
    memset(p, 4, n);
    return p;
}

/* 2^k distinct stacks of depth k: each level calls one of two functions
 * by a bit of the path. */
__attribute__((noinline)) void *path_b(unsigned bits, int k, size_t n);
__attribute__((noinline)) void *path_a(unsigned bits, int k, size_t n)
{
    void *p = k == 0 ? malloc(n) : (bits & 1 ? path_a : path_b)(bits >> 1, k - 1, n);
    g_sink += (uintptr_t)p & 1; /* not a tail call */
    return p;
}

__attribute__((noinline)) void *path_b(unsigned bits, int k, size_t n)
{
    void *p = k == 0 ? malloc(n) : (bits & 1 ? path_a : path_b)(bits >> 1, k - 1, n);
    g_sink += (uintptr_t)p & 2;
    return p;
}

static void *varied_stack_alloc(unsigned stacks, size_t n)
{
    int k = 0;
    while ((1u << k) < stacks)
        k++;
    return path_a((unsigned)(rnd() % stacks), k, n);
}

__attribute__((noinline)) static void handle_request(void)
{
    if (g_c.stacks) {
        void *p = varied_stack_alloc(g_c.stacks, 64 + rnd() % 4033);
        free(p);
    }
    void *tmp[64];
    unsigned n = g_c.churn_allocs < 64 ? g_c.churn_allocs : 64;
    for (unsigned i = 0; i < n; i++) {
        size_t sz = 64 + rnd() % 4033;
        tmp[i] = (i & 1) ? churn_parse_header(sz) : churn_render_body(sz);
    }
    if (g_c.leak_bytes) {
        size_t sz = g_c.leak_bytes;
        if (g_c.leak_spread)
            sz = sz - g_c.leak_spread + rnd() % (2 * g_c.leak_spread + 1);
        push(&g_leaked, &g_nleaked, &g_capleaked, leak_request_buffer(sz));
    }
    for (unsigned i = 0; i < n; i++) {
        g_sink += ((unsigned char *)tmp[i])[0];
        free(tmp[i]);
    }
}

static void *parked(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_park_lock);
    while (!g_release)
        pthread_cond_wait(&g_park_cond, &g_park_lock);
    pthread_mutex_unlock(&g_park_lock);
    return NULL;
}

__attribute__((noinline)) void spawn_parked_worker(void)
{
    if (g_nthreads == g_capthreads) {
        g_capthreads = g_capthreads ? g_capthreads * 2 : 64;
        g_threads = realloc(g_threads, g_capthreads * sizeof *g_threads);
    }
    if (pthread_create(&g_threads[g_nthreads], NULL, parked, NULL) == 0)
        g_nthreads++;
}

static void *short_job(void *arg)
{
    return arg;
}

__attribute__((noinline)) static void run_short_job(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, short_job, NULL) == 0)
        pthread_join(t, NULL);
}

__attribute__((noinline)) int open_leaked_eventfd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    __asm__ volatile("" ::: "memory"); /* no tail call: this frame stays in the stack */
    return fd;
}

void lw_init(const struct lw_config *c, unsigned seed)
{
    g_c = *c;
    g_rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed * 0xD1B54A32D192ED03ULL);
    if (!g_rng)
        g_rng = 1;
    g_release = 0;
    if (c->cache_cap)
        g_cache = calloc(c->cache_cap, sizeof *g_cache);
    if (c->sessions) { /* the steady working set exists before the history looks */
        g_sessions = calloc(c->sessions, sizeof *g_sessions);
        for (unsigned i = 0; i < c->sessions; i++)
            g_sessions[i] = session_create(256 + rnd() % 3841);
    }
}

void lw_interval(void)
{
    for (unsigned r = 0; r < g_c.requests; r++)
        handle_request();
    for (unsigned i = 0; i < g_c.extra_leaks; i++)
        push(&g_leaked, &g_nleaked, &g_capleaked, leak_request_buffer(1024));
    for (unsigned i = 0; i < g_c.cache_fill && g_ncache < g_c.cache_cap; i++)
        g_cache[g_ncache++] = cache_insert(512 + rnd() % 1537);
    for (unsigned i = 0; i < g_c.session_replace && g_c.sessions; i++) {
        size_t k = rnd() % g_c.sessions;
        free(g_sessions[k]);
        g_sessions[k] = session_create(256 + rnd() % 3841);
    }
    for (unsigned i = 0; i < g_c.leak_threads; i++)
        spawn_parked_worker();
    for (unsigned i = 0; i < g_c.churn_threads; i++)
        run_short_job();
    for (unsigned i = 0; i < g_c.leak_fds; i++) {
        int fd = open_leaked_eventfd();
        if (fd >= 0) {
            if (g_nfds == g_capfds) {
                g_capfds = g_capfds ? g_capfds * 2 : 64;
                g_fds = realloc(g_fds, g_capfds * sizeof *g_fds);
            }
            g_fds[g_nfds++] = fd;
        }
    }
    for (unsigned i = 0; i < g_c.churn_fds; i++) {
        int p[2];
        if (pipe(p) == 0) {
            close(p[0]);
            close(p[1]);
        }
    }
}

void lw_leak(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        push(&g_leaked, &g_nleaked, &g_capleaked, leak_request_buffer(1024));
}

void lw_finish(void)
{
    pthread_mutex_lock(&g_park_lock);
    g_release = 1;
    pthread_cond_broadcast(&g_park_cond);
    pthread_mutex_unlock(&g_park_lock);
    for (size_t i = 0; i < g_nthreads; i++)
        pthread_join(g_threads[i], NULL);
    g_nthreads = 0;
    for (size_t i = 0; i < g_nfds; i++)
        close(g_fds[i]);
    g_nfds = 0;
    for (size_t i = 0; i < g_nleaked; i++)
        free(g_leaked[i]);
    g_nleaked = 0;
    for (size_t i = 0; i < g_ncache; i++)
        free(g_cache[i]);
    free(g_cache);
    g_cache = NULL;
    g_ncache = 0;
    for (unsigned i = 0; g_sessions && i < g_c.sessions; i++)
        free(g_sessions[i]);
    free(g_sessions);
    g_sessions = NULL;
}
