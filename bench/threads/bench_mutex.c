/* The mutex profile's cost (bench/README.md, "Mutex profile").
 *
 * Uncontended: one thread (the process has a second, idle one: glibc skips
 * atomics in single-threaded processes), lock+unlock of one mutex, 20 M
 * pairs, ns per pair, median of 7 runs (modes interleaved), for: libc's functions called directly (dlopen'ed
 * libc.so.6: the baseline), the library's interposers with the profile off
 * (fraction 0) and on (fraction 1: the trylock path).
 * Contended: 2 threads doing lock; 20 increments; unlock on one mutex, 2 M
 * pairs each, ns per pair (wall / total pairs), median of 5 runs, same three. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <introspect.h>

typedef int (*lk)(pthread_mutex_t *);
static lk g_lock, g_unlock;
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static volatile long g_sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double uncontended(long n)
{
    double t0 = now();
    for (long i = 0; i < n; i++) {
        g_lock(&g_m);
        g_unlock(&g_m);
    }
    return (now() - t0) / (double)n;
}

static long g_pairs;
static void *hammer(void *arg)
{
    (void)arg;
    for (long i = 0; i < g_pairs; i++) {
        g_lock(&g_m);
        for (int k = 0; k < 20; k++)
            g_sink++;
        g_unlock(&g_m);
    }
    return NULL;
}

static double contended(long n)
{
    pthread_t a, b;
    g_pairs = n;
    double t0 = now();
    pthread_create(&a, NULL, hammer, NULL);
    pthread_create(&b, NULL, hammer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return (now() - t0) / (double)(2 * n);
}

static int lock_i(pthread_mutex_t *m) { return pthread_mutex_lock(m); }
static int unlock_i(pthread_mutex_t *m) { return pthread_mutex_unlock(m); }

static void *idle_thread(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    /* glibc takes an uncontended mutex without atomics while the process is
     * single-threaded: make it multi-threaded first, as a server is. */
    pthread_t idle;
    pthread_create(&idle, NULL, idle_thread, NULL);
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    lk real_lock = (lk)dlsym(libc, "pthread_mutex_lock"),
       real_unlock = (lk)dlsym(libc, "pthread_mutex_unlock");
    if (!real_lock || !real_unlock) {
        fprintf(stderr, "libc's pthread_mutex_lock not found\n");
        return 1;
    }
    struct {
        const char *name;
        lk lock, unlock;
        int fraction;
    } modes[] = {{"libc (baseline)", real_lock, real_unlock, 0},
                 {"interposed, fraction 0 (off)", lock_i, unlock_i, 0},
                 {"interposed, fraction 1 (trylock path)", lock_i, unlock_i, 1}};
    double u[3][7], c[3][5];
    for (int r = 0; r < 7; r++) /* modes interleaved, so load changes hit all alike */
        for (int m = 0; m < 3; m++) {
            g_lock = modes[m].lock;
            g_unlock = modes[m].unlock;
            introspect_set_mutex_profile_fraction(modes[m].fraction);
            uncontended(1000000);
            u[m][r] = uncontended(20000000);
            if (r < 5)
                c[m][r] = contended(2000000);
        }
    for (int m = 0; m < 3; m++) {
        qsort(u[m], 7, sizeof u[m][0], cmp);
        qsort(c[m], 5, sizeof c[m][0], cmp);
        printf("%-40s uncontended %6.2f ns/pair (min %.2f max %.2f)   contended %7.1f ns/pair "
               "(min %.1f max %.1f)\n",
               modes[m].name, u[m][3], u[m][0], u[m][6], c[m][2], c[m][0], c[m][4]);
    }
    introspect_set_mutex_profile_fraction(0);
    return 0;
}
