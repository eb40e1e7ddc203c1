/* INTROSPECT_MEMTRACE=<seconds>: one memstats line per interval on stderr,
 * in the spirit of GODEBUG=gctrace=1. A module: its thread starts and stops
 * (joined) with the server. */
#include <pthread.h>
#include <stdio.h>

#include "gcstats/allocator.h"
#include "gcstats/memtrace.h"
#include "host/threads.h"
#include "runtime.h"
#include "sampling/heap/heap.h"

static pthread_t g_thread;
static int g_running;
static unsigned g_interval;

static double mib(double b) { return b / (1024.0 * 1024.0); }

void ix_memtrace_line(char *out, size_t n, double uptime)
{
    struct ix_heap_stats s;
    ix_heap_get_stats(&s);
    double inuse, mapped;
    ix_allocator_headline(&inuse, &mapped);
    snprintf(out, n,
             "memtrace: t=%.1fs mallocs=%llu frees=%llu live=%llu sampled_inuse=%.2fMiB "
             "sampled_objects=%.0f total_alloc=%.2fMiB allocator=%s inuse=%.2fMiB mapped=%.2fMiB\n",
             uptime, (unsigned long long)s.mallocs, (unsigned long long)s.frees,
             (unsigned long long)(s.mallocs > s.frees ? s.mallocs - s.frees : 0),
             mib(s.inuse_bytes), s.inuse_objects, mib(s.alloc_bytes), ix_allocator_name(),
             inuse < 0 ? -1 : mib(inuse), mapped < 0 ? -1 : mib(mapped));
}

static void *trace_loop(void *arg)
{
    (void)arg;
    long long t0 = ix_mono_ns();
    while (ix_wait_ms(NULL, (long)g_interval * 1000) == 0) {
        char line[512];
        ix_memtrace_line(line, sizeof line, (double)(ix_mono_ns() - t0) / 1e9);
        fputs(line, stderr);
    }
    return NULL;
}

int ix_memtrace_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    g_interval = cfg->memtrace_seconds;
    if (!g_interval)
        return 0;
    if (ix_module_thread_create(&g_thread, 0, trace_loop, NULL, "introspect-mem")) {
        snprintf(why, whylen, "memtrace: cannot create its thread");
        return INTROSPECT_ESYS;
    }
    g_running = 1;
    return 0;
}

void ix_memtrace_forked(void) { g_running = 0; }

void ix_memtrace_stop(void)
{
    if (g_running)
        pthread_join(g_thread, NULL);
    g_running = 0;
}
