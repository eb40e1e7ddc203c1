/* Where each runtime.MemStats field comes from in a C process:
 *
 *   Alloc, HeapAlloc            the allocator's bytes in live blocks (allocator.h)
 *   HeapSys, HeapIdle, HeapInuse, HeapReleased   the allocator's own statistics
 *   Mallocs, Frees, HeapObjects the interposer's exact counts (HeapObjects = Mallocs - Frees)
 *   TotalAlloc                  the interposer's exact sum of requested bytes
 *   StackInuse, StackSys        thread stack mappings: resident and mapped bytes (stacks.c)
 *   BuckHashSys                 the heap sampler's buckets and their index (as Go's:
 *                               memory of the profiling bucket tables)
 *   OtherSys                    the allocator's metadata where it says (jemalloc), else 0
 *   Sys                         HeapSys + StackSys + BuckHashSys + OtherSys
 *   Lookups                     0 (Go's is always 0 too)
 *   MSpan*, MCache*, GCSys      0: Go runtime structures C does not have
 *   NextGC, LastGC, PauseTotalNs, PauseNs, PauseEnd, NumGC, NumForcedGC,
 *   GCCPUFraction               0: there is no garbage collector
 *   EnableGC, DebugGC           false: no collector to enable
 *   BySize                      Go's 61 size classes (Size filled), Mallocs/Frees 0:
 *                               the interposer does not count by size
 *
 * Mallocs, Frees and TotalAlloc count what went through the interposer (or
 * tcmalloc's hooks): allocations made before the library was loaded, or
 * under an allocator we cannot observe, are not in them. The sampled
 * estimates of the heap profile are reported apart (Sampled* keys). */
#include "gcstats/memstats.h"

#include <string.h>
#include <sys/resource.h>

#include "gcstats/allocator.h"
#include "gcstats/stacks.h"
#include "sampling/heap/heap.h"

/* runtime/sizeclasses.go class_to_size[0:61], as runtime.ReadMemStats fills BySize[i].Size. */
static const uint32_t go_class_size[IX_MEMSTATS_BYSIZE] = {
    0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,   160,
    176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,   448,   480,
    512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,  1536,  1792,  2048,
    2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,  6528,  6784,  6912,  8192,
    9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384, 18432};

void ix_memstats_read(struct ix_memstats *m)
{
    memset(m, 0, sizeof *m);
    struct ix_heap_stats hs;
    ix_heap_get_stats(&hs);
    m->mallocs = hs.mallocs;
    m->frees = hs.frees;
    m->heap_objects = hs.mallocs > hs.frees ? hs.mallocs - hs.frees : 0;
    m->total_alloc = hs.total_bytes;
    m->buck_hash_sys = hs.bucket_bytes;
    struct ix_alloc_heap ah;
    m->allocator_known = ix_allocator_heap(&ah) == 0;
    m->alloc = m->heap_alloc = ah.alloc;
    m->heap_sys = ah.sys;
    m->heap_idle = ah.idle;
    m->heap_inuse = ah.inuse;
    m->heap_released = ah.released;
    m->other_sys = ah.meta;
    struct ix_stack_stats ss;
    ix_stack_stats_read(&ss);
    m->stack_inuse = ss.inuse;
    m->stack_sys = ss.sys;
    m->sys = m->heap_sys + m->stack_sys + m->buck_hash_sys + m->other_sys;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        m->max_rss = (uint64_t)ru.ru_maxrss * 1024;
}

static void u64(introspect_json *j, const char *key, uint64_t v)
{
    introspect_json_key(j, key);
    ix_json_uint(j, v);
}

static void zeros(introspect_json *j, const char *key, int n)
{
    introspect_json_key(j, key);
    introspect_json_array_begin(j);
    for (int i = 0; i < n; i++)
        ix_json_uint(j, 0);
    introspect_json_array_end(j);
}

void ix_memstats_go_json(introspect_json *j, const struct ix_memstats *m)
{
    u64(j, "Alloc", m->alloc);
    u64(j, "TotalAlloc", m->total_alloc);
    u64(j, "Sys", m->sys);
    u64(j, "Lookups", m->lookups);
    u64(j, "Mallocs", m->mallocs);
    u64(j, "Frees", m->frees);
    u64(j, "HeapAlloc", m->heap_alloc);
    u64(j, "HeapSys", m->heap_sys);
    u64(j, "HeapIdle", m->heap_idle);
    u64(j, "HeapInuse", m->heap_inuse);
    u64(j, "HeapReleased", m->heap_released);
    u64(j, "HeapObjects", m->heap_objects);
    u64(j, "StackInuse", m->stack_inuse);
    u64(j, "StackSys", m->stack_sys);
    u64(j, "MSpanInuse", m->mspan_inuse);
    u64(j, "MSpanSys", m->mspan_sys);
    u64(j, "MCacheInuse", m->mcache_inuse);
    u64(j, "MCacheSys", m->mcache_sys);
    u64(j, "BuckHashSys", m->buck_hash_sys);
    u64(j, "GCSys", m->gc_sys);
    u64(j, "OtherSys", m->other_sys);
    u64(j, "NextGC", m->next_gc);
    u64(j, "LastGC", m->last_gc);
    u64(j, "PauseTotalNs", m->pause_total_ns);
    zeros(j, "PauseNs", 256);
    zeros(j, "PauseEnd", 256);
    u64(j, "NumGC", m->num_gc);
    u64(j, "NumForcedGC", m->num_forced_gc);
    introspect_json_key(j, "GCCPUFraction");
    introspect_json_float(j, m->gc_cpu_fraction);
    introspect_json_key(j, "EnableGC");
    introspect_json_bool(j, m->enable_gc);
    introspect_json_key(j, "DebugGC");
    introspect_json_bool(j, m->debug_gc);
    introspect_json_key(j, "BySize");
    introspect_json_array_begin(j);
    for (int i = 0; i < IX_MEMSTATS_BYSIZE; i++) {
        introspect_json_object_begin(j);
        u64(j, "Size", go_class_size[i]);
        u64(j, "Mallocs", 0);
        u64(j, "Frees", 0);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

/* Go prints the arrays with %d: "[0 0 ... 0]". */
static void zero_array(ix_buf *out, const char *name, int n)
{
    ix_buf_printf(out, "# %s = [", name);
    for (int i = 0; i < n; i++)
        ix_buf_puts(out, i ? " 0" : "0");
    ix_buf_puts(out, "]\n");
}

void ix_memstats_go_text(ix_buf *out, const struct ix_memstats *m)
{
#define L(name, v) ix_buf_printf(out, "# " name " = %llu\n", (unsigned long long)(v))
#define P(name, a, b)                                                                      \
    ix_buf_printf(out, "# " name " = %llu / %llu\n", (unsigned long long)(a), (unsigned long long)(b))
    ix_buf_puts(out, "\n# runtime.MemStats\n");
    L("Alloc", m->alloc);
    L("TotalAlloc", m->total_alloc);
    L("Sys", m->sys);
    L("Lookups", m->lookups);
    L("Mallocs", m->mallocs);
    L("Frees", m->frees);
    L("HeapAlloc", m->heap_alloc);
    L("HeapSys", m->heap_sys);
    L("HeapIdle", m->heap_idle);
    L("HeapInuse", m->heap_inuse);
    L("HeapReleased", m->heap_released);
    L("HeapObjects", m->heap_objects);
    P("Stack", m->stack_inuse, m->stack_sys);
    P("MSpan", m->mspan_inuse, m->mspan_sys);
    P("MCache", m->mcache_inuse, m->mcache_sys);
    L("BuckHashSys", m->buck_hash_sys);
    L("GCSys", m->gc_sys);
    L("OtherSys", m->other_sys);
    L("NextGC", m->next_gc);
    L("LastGC", m->last_gc);
    zero_array(out, "PauseNs", 256);
    zero_array(out, "PauseEnd", 256);
    L("NumGC", m->num_gc);
    L("NumForcedGC", m->num_forced_gc);
    ix_buf_printf(out, "# GCCPUFraction = %g\n", m->gc_cpu_fraction);
    ix_buf_printf(out, "# DebugGC = %s\n", m->debug_gc ? "true" : "false");
    L("MaxRSS", m->max_rss);
#undef L
#undef P
}
