#include "workload.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEAKS (1 << 20)
static void *g_leaks[MAX_LEAKS];
static size_t g_nleaks, g_leaked[2];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep(void *p, size_t size, int which)
{
    pthread_mutex_lock(&g_lock);
    if (p && g_nleaks < MAX_LEAKS) {
        g_leaks[g_nleaks++] = p;
        g_leaked[which] += size;
    }
    pthread_mutex_unlock(&g_lock);
}

/* leak_memory and leak_more are deliberately twins: each must call malloc
 * itself to be the leaf frame of its samples (a shared helper would be). */
__attribute__((noinline)) void leak_memory(size_t count, size_t size)
{
    for (size_t i = 0; i < count; i++) {
        char *p = malloc(size);
        if (p)
            p[0] = 1;
        keep(p, size, 0);
    }
}

__attribute__((noinline)) void leak_more(size_t count, size_t size)
{
    for (size_t i = 0; i < count; i++) {
        char *p = malloc(size);
        if (p)
            p[0] = 2;
        keep(p, size, 1);
    }
}

size_t leaked_bytes(int which) { return g_leaked[which]; }

void leak_release(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nleaks; i++)
        free(g_leaks[i]);
    g_nleaks = 0;
    g_leaked[0] = g_leaked[1] = 0;
    pthread_mutex_unlock(&g_lock);
}

__attribute__((noinline)) uint64_t churn(unsigned long iters, unsigned seed)
{
    enum { RING = 1024 };
    void *ring[RING] = {0};
    uint64_t x = seed * 2654435761u + 1, sum = 0;
    for (unsigned long i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t slot = x % RING;
        free(ring[slot]);
        size_t n = 16 + (x >> 20) % 2049;
        unsigned char *p = malloc(n);
        if (p) {
            p[0] = (unsigned char)i;
            sum += p[0];
        }
        ring[slot] = p;
    }
    for (size_t i = 0; i < RING; i++)
        free(ring[i]);
    return sum;
}
