/* The perf engine's ring side: what the kernel records per sample and how the
 * profiling thread turns those records into stacks (sampling/cpu/perf_ring.c). */
#ifndef IX_CPU_PERF_H
#define IX_CPU_PERF_H

#include <stdint.h>

#include "sampling/cpu/engine.h"
#include "sampling/cpu/sample_ring.h"

/* User stack bytes the kernel copies per sample: perf record's default to
 * begin with, deep enough for ~30 frames of ordinary code. A thread whose
 * walk reaches the end of its copy is re-armed with a bigger copy (x4, up to
 * the kernel's maximum: a record's size is a u16), and past that signalled
 * so its live stack is walked (sampling/cpu/profiler.c). */
#define IX_PERF_STACK_BYTES 8192
#define IX_PERF_STACK_MAX 65528
/* x86-64 perf register numbers: bp, sp, ip (in this order in a record). */
#define IX_PERF_REGS_MASK ((1ULL << 6) | (1ULL << 7) | (1ULL << 8))

struct ix_cpu_perf_stats {
    uint64_t samples;   /* records turned into samples */
    uint64_t lost;      /* samples the kernel could not store (ring full) */
    uint64_t truncated; /* walks that ended at the end of the stack copy */
    /* of those, copies the kernel ended early: it copies in the sampling
     * interrupt, where a page never touched (a big local array's untouched
     * pages) cannot be faulted in, so the copy stops at the first one */
    uint64_t holes;
    uint64_t root;      /* walks that reached the thread's first frame */
};

/* Drain one thread's ring (profiling thread only): fn gets one record per
 * sample, stats accumulate. Returns the number of samples. */
uint32_t ix_cpu_perf_ring_drain(struct ix_cpu_arm *a, void (*fn)(const struct ix_cpu_rec *, void *),
                                void *arg, struct ix_cpu_perf_stats *st);
/* 1 when the kernel refused kernel-mode samples (user CPU only is sampled). */
int ix_cpu_perf_user_only(void);

#endif
