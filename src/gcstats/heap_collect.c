/* The heap's figures for /debug/vars "memstats" and /metrics: Go's
 * runtime.MemStats fields (gcstats/memstats.c), then what Go does not have:
 * the sampler's estimates under Sampled* names with their precision, and
 * the allocator's own statistics. */
#include <math.h>
#include <stdio.h>

#include "collectors.h"
#include "gcstats/allocator.h"
#include "gcstats/memstats.h"
#include "sampling/heap/heap.h"

void ix_memstats_heap(introspect_json *j)
{
    struct ix_memstats m;
    ix_memstats_read(&m);
    ix_memstats_go_json(j, &m);
    struct ix_heap_stats s;
    ix_heap_get_stats(&s);
    /* The heap profile's estimates: live bytes and objects, bytes allocated
     * since start, the samples they rest on and the relative standard error
     * of the totals (about 1/sqrt(samples) under Poisson sampling; 0 at
     * rate 1; null with no sample). */
    introspect_json_key(j, "SampledHeapAlloc");
    introspect_json_int(j, (int64_t)s.inuse_bytes);
    introspect_json_key(j, "SampledHeapObjects");
    introspect_json_int(j, (int64_t)s.inuse_objects);
    introspect_json_key(j, "SampledTotalAlloc");
    introspect_json_int(j, (int64_t)s.alloc_bytes);
    introspect_json_key(j, "HeapSamples");
    introspect_json_int(j, (int64_t)s.samples);
    introspect_json_key(j, "SampledHeapAllocRelativeError");
    introspect_json_float(j, s.sample_rate == 1 ? 0 /* every allocation recorded */
                             : s.samples ? 1.0 / sqrt((double)s.samples)
                                         : NAN);
    introspect_json_key(j, "HeapSampleRate");
    introspect_json_int(j, s.rate);
    introspect_json_key(j, "HeapBuckets");
    introspect_json_int(j, (int64_t)s.buckets);
    introspect_json_key(j, "HeapSamplesDropped");
    introspect_json_int(j, (int64_t)s.dropped);
    introspect_json_key(j, "HeapUnwindFallbacks");
    introspect_json_int(j, (int64_t)s.unwind_fallbacks);
    introspect_json_key(j, "HeapProfiler");
    introspect_json_string(j, ix_heap_mode_name(s.mode));
    introspect_json_key(j, "Allocator");
    introspect_json_string(j, ix_allocator_name());
    introspect_json_key(j, "AllocatorPath");
    introspect_json_string(j, ix_allocator_path());
    introspect_json_key(j, "AllocatorStats");
    introspect_json_object_begin(j);
    struct ix_alloc_stat st[IX_ALLOC_MAX_STATS];
    int n = ix_allocator_stats(st);
    for (int i = 0; i < n; i++) {
        introspect_json_key(j, st[i].name);
        introspect_json_int(j, (int64_t)st[i].value);
    }
    introspect_json_object_end(j);
}

static void gauge(struct ix_mset *set, const char *name, const char *help, double v)
{
    ix_mset_value0(set, ix_mset_family(set, name, help, IX_GAUGE), v);
}

static void counter(struct ix_mset *set, const char *name, const char *help, double v)
{
    ix_mset_value0(set, ix_mset_family(set, name, help, IX_COUNTER), v);
}

void ix_collect_heap(struct ix_mset *set)
{
    struct ix_heap_stats s;
    ix_heap_get_stats(&s);
    if (s.counting) { /* absent, not frozen, while sampling is off (docs/heap-profiling.md) */
        counter(set, "introspect_heap_mallocs_total",
                "Allocations made through malloc and friends.", (double)s.mallocs);
        counter(set, "introspect_heap_frees_total", "Blocks freed (free, realloc).",
                (double)s.frees);
        gauge(set, "introspect_heap_live_objects", "Allocated blocks not yet freed (exact).",
              s.mallocs > s.frees ? (double)(s.mallocs - s.frees) : 0);
    }
    gauge(set, "introspect_heap_inuse_bytes",
          "Live heap bytes estimated by the heap sampler.", s.inuse_bytes);
    gauge(set, "introspect_heap_inuse_objects",
          "Live heap objects estimated by the heap sampler.", s.inuse_objects);
    counter(set, "introspect_heap_alloc_bytes_total",
            "Bytes allocated since start, estimated by the heap sampler.", s.alloc_bytes);
    gauge(set, "introspect_heap_sample_rate_bytes",
          "Mean bytes between heap samples (0 = sampling off).", (double)s.rate);
    counter(set, "introspect_heap_samples_dropped_total",
            "Heap samples not tracked because the sampler's tables were full.",
            (double)s.dropped);
    struct ix_mfamily *f = ix_mset_family(set, "introspect_allocator_info",
                                          "The allocator in use and how the heap is profiled.",
                                          IX_GAUGE);
    const char *names[] = {"allocator", "profiler"};
    const char *values[] = {ix_allocator_name(), ix_heap_mode_name(s.mode)};
    ix_mset_value(set, f, names, values, 2, 1);
    struct ix_alloc_stat st[IX_ALLOC_MAX_STATS];
    int n = ix_allocator_stats(st);
    for (int i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "introspect_allocator_%s", st[i].name);
        gauge(set, name, "Allocator statistic (see /debug/vars memstats.AllocatorStats).",
              st[i].value);
    }
}
