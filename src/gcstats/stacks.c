/* Which mappings are thread stacks, without the threads' help.
 *
 * The kernel no longer labels thread stacks in /proc/self/maps (only the
 * main thread's "[stack]"), and pthread attributes are only readable from
 * the thread itself. So we collect one address known to lie in each thread's
 * stack, from three sources, and count the mappings that contain one:
 *   - the stack bounds the heap sampler records when a thread first
 *     allocates (pthread_getattr_np on that thread): almost every thread;
 *   - the user stack pointer of every thread blocked in a system call,
 *     from /proc/self/task/<tid>/syscall (threads that never allocated);
 *   - the calling thread's own bounds.
 * A thread running in user space that never allocated is missed (rare and
 * transient). The guard page is a separate PROT_NONE mapping and not counted.
 * StackSys is the mappings' size, StackInuse their resident size (Rss in
 * /proc/self/smaps): what Go calls the stack memory obtained from the OS and
 * the part in use. */
#include "gcstats/stacks.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampling/heap/heap.h"
#include "introspect.h"

#define MAX_POINTS 4096

struct points {
    uintptr_t v[MAX_POINTS];
    int n;
};

static void add(struct points *p, uintptr_t a)
{
    if (a && p->n < MAX_POINTS)
        p->v[p->n++] = a;
}

static int cmp(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* "NR a1 .. a6 SP PC" or "-1 SP PC": SP is the second-to-last field. */
static uintptr_t blocked_sp(const char *tid)
{
    char path[300], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/syscall", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (!strncmp(buf, "running", 7))
        return 0;
    char *last = NULL, *prev = NULL, *save = NULL;
    for (char *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        prev = last;
        last = tok;
    }
    return prev ? (uintptr_t)strtoull(prev, NULL, 16) : 0;
}

static void collect(struct points *p)
{
    uintptr_t r[256][2];
    int n = ix_heap_thread_stacks(r, 256);
    for (int i = 0; i < n; i++)
        add(p, r[i][1] - 1);
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&a, &addr, &size) == 0)
            add(p, (uintptr_t)addr + size - 1);
        pthread_attr_destroy(&a);
    }
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            add(p, blocked_sp(e->d_name));
    closedir(d);
}

static int contains(const struct points *p, uintptr_t lo, uintptr_t hi)
{
    int a = 0, b = p->n; /* first point >= lo */
    while (a < b) {
        int m = (a + b) / 2;
        if (p->v[m] < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < p->n && p->v[a] < hi;
}

int ix_stack_stats_read(struct ix_stack_stats *s)
{
    memset(s, 0, sizeof *s);
    struct points *p = malloc(sizeof *p);
    if (!p)
        return INTROSPECT_ENOMEM;
    p->n = 0;
    collect(p);
    qsort(p->v, (size_t)p->n, sizeof p->v[0], cmp);
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f) {
        free(p);
        return INTROSPECT_ESYS;
    }
    char line[512];
    int in_stack = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        unsigned long long kb;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            in_stack = strstr(line, "[stack]") != NULL || contains(p, lo, hi);
            if (in_stack) {
                s->sys += hi - lo;
                s->stacks++;
            }
        } else if (in_stack && sscanf(line, "Rss: %llu kB", &kb) == 1) {
            s->inuse += kb * 1024;
        }
    }
    fclose(f);
    free(p);
    return 0;
}
