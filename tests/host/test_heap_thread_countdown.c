/* Every thread's heap-sampling countdown starts from its own random draw.
 *
 * 2000 short-lived threads, one after another (so they reuse one stack and
 * one TLS address), each allocate once 4096 bytes from thread_alloc_once.
 * At a mean of 65536 bytes between samples, each allocation is sampled with
 * p = 1 - exp(-4096/65536) = 0.0606: 121.2 samples expected, Poisson with a
 * standard deviation of 11.0. The test accepts 121 +- 50 (4.5 sd: a false
 * failure about once in 150,000 runs). A countdown that starts at zero
 * samples ~every thread (2000); one that starts past the first allocation
 * samples none; seeds that repeat across threads cluster far from 121. */
#define _GNU_SOURCE
#include <pthread.h>

#include "harness.h"
#include "heap/heap_test_util.h"
#include "introspect.h"

#define THREADS 2000
#define SIZE 4096

static void *volatile g_sink[THREADS];

__attribute__((noinline)) void *thread_alloc_once(void *arg)
{
    long i = (long)arg;
    g_sink[i] = malloc(SIZE);
    __asm__ volatile("" ::: "memory");
    return NULL;
}

/* Raw sampled allocation count of the stacks through thread_alloc_once, from
 * the legacy text format ("inuse: bytes [allocs: bytes] @ pcs" then "#" lines). */
static long sampled_allocs(char *text)
{
    long total = 0, cur = 0;
    int counted = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long iu, ib, ac, ab;
        if (sscanf(line, "%ld: %ld [%ld: %ld] @", &iu, &ib, &ac, &ab) == 4) {
            cur = ac; /* a record's header */
            counted = 0;
        } else if (line[0] == '#' && !counted && strstr(line, "thread_alloc_once")) {
            total += cur;
            counted = 1;
        }
    }
    return total;
}

int main(void)
{
    skip_if_sanitized();
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 65536;
    ASSERT_EQ(introspect_start(&cfg), 0);
    for (long i = 0; i < THREADS; i++) {
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, thread_alloc_once, (void *)i), 0);
        ASSERT_EQ(pthread_join(t, NULL), 0);
    }
    struct http_reply r;
    ASSERT_EQ(http_get(introspect_port(), "/debug/pprof/allocs?debug=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    long n = sampled_allocs(r.body);
    fprintf(stderr, "%d threads, one %d-byte allocation each: %ld sampled (expected 121.2, sd 11.0)\n",
            THREADS, SIZE, n);
    ASSERT(n >= 71 && n <= 171);
    http_reply_free(&r);
    for (int i = 0; i < THREADS; i++)
        free(g_sink[i]);
    ASSERT_EQ(introspect_stop(), 0);
    return 0;
}
