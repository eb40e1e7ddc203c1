/* The mutex profile's cost (bench/README.md, "Mutex profile").
 *
 * Uncontended: one thread (the process has a second, idle one: glibc skips
 * atomics in single-threaded processes), lock+unlock of one mutex, 20 M
 * pairs, ns per pair, median of 7 runs (modes interleaved), for: libc's functions called directly (dlopen'ed
 * libc.so.6: the baseline), the library's interposers with the profile off
 * (fraction 0) and on (fraction 1: the trylock path).
 * Contended: 2 threads doing lock; 20 increments; unlock on one mutex, 2 M
 * pairs each, ns per pair (wall / total pairs), median of 5 runs, same three.
 * Then (and alone with argument "a") the pair-alternated uncontended
 * measure: the added cost as differences between adjacent short blocks. */
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

static double uncontended_cpu(long n)
{
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (long i = 0; i < n; i++) {
        g_lock(&g_m);
        g_unlock(&g_m);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
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

/* Pair-alternated: short blocks of each mode back to back (the order
 * rotating), the added cost is the difference between adjacent blocks, so a
 * load change between blocks of 2 ms hits both sides of a difference alike;
 * the median over many differences is the figure. Blocks are timed on the
 * thread's CPU clock (0.3 ms each: most run without a preemption, and time
 * spent preempted is not counted). */
#define BLOCKS 2001
#define BLOCK_PAIRS 20000
static int cmpd(const void *a, const void *b) { return cmp(a, b); }
static void alternated(lk real_lock, lk real_unlock)
{
    static double t[3][BLOCKS], d[2][BLOCKS];
    const lk locks[3] = {real_lock, lock_i, lock_i}, unlocks[3] = {real_unlock, unlock_i, unlock_i};
    const int fraction[3] = {0, 0, 1};
    for (int b = 0; b < BLOCKS; b++)
        for (int k = 0; k < 3; k++) {
            int m = (b + k) % 3;
            g_lock = locks[m];
            g_unlock = unlocks[m];
            introspect_set_mutex_profile_fraction(fraction[m]);
            t[m][b] = uncontended_cpu(BLOCK_PAIRS);
        }
    introspect_set_mutex_profile_fraction(0);
    for (int b = 0; b < BLOCKS; b++) {
        d[0][b] = t[1][b] - t[0][b];
        d[1][b] = t[2][b] - t[0][b];
    }
    for (int m = 0; m < 3; m++)
        qsort(t[m], BLOCKS, sizeof t[m][0], cmpd);
    qsort(d[0], BLOCKS, sizeof d[0][0], cmpd);
    qsort(d[1], BLOCKS, sizeof d[1][0], cmpd);
    int q1 = BLOCKS / 4, q2 = BLOCKS / 2, q3 = 3 * BLOCKS / 4;
    printf("pair-alternated, %d blocks of %d uncontended pairs (median, quartiles):\n", BLOCKS,
           BLOCK_PAIRS);
    printf("  libc (baseline)                 %6.2f ns/pair (%.2f..%.2f)\n", t[0][q2], t[0][q1],
           t[0][q3]);
    printf("  added, fraction 0 (off)         %+6.2f ns/pair (%+.2f..%+.2f)\n", d[0][q2], d[0][q1],
           d[0][q3]);
    printf("  added, fraction 1 (on, trylock) %+6.2f ns/pair (%+.2f..%+.2f)\n", d[1][q2], d[1][q1],
           d[1][q3]);
}

int main(int argc, char **argv)
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
    if (argc > 1 && argv[1][0] == 'a') { /* "alternated" only */
        alternated(real_lock, real_unlock);
        return 0;
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
    alternated(real_lock, real_unlock);
    return 0;
}
