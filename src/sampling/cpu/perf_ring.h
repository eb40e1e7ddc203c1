/* The perf engine's ring side: what the kernel records per sample and how the
 * profiling thread turns those records into stacks (sampling/cpu/perf_ring.c). */
#ifndef IX_CPU_PERF_H
#define IX_CPU_PERF_H

#include <stdint.h>

#include "sampling/cpu/engine.h"
#include "sampling/cpu/sample_ring.h"

/* User stack bytes the kernel copies per sample (perf record's default):
 * deep enough for ~30 frames of ordinary code; a walk that reaches the end of
 * the copy stops there and is counted as truncated. */
#define IX_PERF_STACK_BYTES 8192
/* x86-64 perf register numbers: bp, sp, ip (in this order in a record). */
#define IX_PERF_REGS_MASK ((1ULL << 6) | (1ULL << 7) | (1ULL << 8))

struct ix_cpu_perf_stats {
    uint64_t samples;   /* records turned into samples */
    uint64_t lost;      /* samples the kernel could not store (ring full) */
    uint64_t truncated; /* walks that ended at the end of the stack copy */
};

/* Drain one thread's ring (profiling thread only): fn gets one record per
 * sample, stats accumulate. Returns the number of samples. */
uint32_t ix_cpu_perf_ring_drain(struct ix_cpu_arm *a, void (*fn)(const struct ix_cpu_rec *, void *),
                                void *arg, struct ix_cpu_perf_stats *st);
/* 1 when the kernel refused kernel-mode samples (user CPU only is sampled). */
int ix_cpu_perf_user_only(void);

#endif
