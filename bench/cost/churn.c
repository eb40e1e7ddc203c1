/* The malloc-bound churn of issue 22 (bench/README.md, "Cost"): random
 * sizes 16..4096 bytes plus one 64 KiB block in 256, a working set of 1,000
 * live blocks, N malloc+free pairs (default 3,000,000). It knows nothing of
 * introspect: bench/cost/run.sh runs it plain, with an idle thread, and
 * under LD_PRELOAD=libintrospect.so with heap sampling off and at 512 KiB.
 *
 *   cost_churn [-t] [-s SEED] [N]
 *       -t: start one idle thread first (as a server has), so glibc's malloc
 *           takes its locked path
 *       -s: vary the sequence (0, the default, is the sequence).
 *           glibc's trim/regrow cycle of the main heap is chaotic in the
 *           heap's layout: on the same sequence, a few KB more or less in
 *           use before the churn moves the run's page faults by +-600
 *           (bench/README.md, "Cost"), so a comparison takes many seeds.
 *
 * Prints "cpu <s>": the whole process's CPU time (user + system of every
 * thread, getrusage RUSAGE_SELF) at the end, so a profiler's own threads
 * count against it. Start-up (dynamic loading, the module's start) is in it. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { LIVE = 1000 };

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

__attribute__((noinline)) static uint64_t churn(unsigned long n, uint64_t seed)
{
    static void *live[LIVE];
    uint64_t x = 0x9E3779B97F4A7C15ULL ^ seed, sum = 0;
    for (unsigned long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t slot = (size_t)(x % LIVE);
        free(live[slot]);
        size_t size = (x >> 24) % 256 == 0 ? 65536 : 16 + (size_t)((x >> 32) % 4081);
        unsigned char *p = malloc(size);
        if (p) {
            p[0] = (unsigned char)i;
            sum += p[0];
        }
        live[slot] = p;
    }
    for (size_t i = 0; i < LIVE; i++) {
        free(live[i]);
        live[i] = NULL;
    }
    return sum;
}

int main(int argc, char **argv)
{
    int thread = 0;
    unsigned long n = 3000000;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0)
            thread = 1;
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else
            n = strtoul(argv[i], NULL, 10);
    }
    pthread_t th;
    if (thread && pthread_create(&th, NULL, idle, NULL) != 0)
        return 1;
    uint64_t sum = churn(n, seed);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("cpu %.4f (checksum %llu)\n", cpu, (unsigned long long)sum);
    return 0;
}
