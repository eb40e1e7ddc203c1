/* The CPU sampler's ring: preallocated records that signal handlers fill and
 * the profiling thread drains. Many producers (every sampled thread's
 * handler), one consumer. No malloc, no locks on the producer side: a
 * producer claims a free record with one compare-and-swap, fills it, then
 * publishes it; when no free record is found within a few tries the sample
 * is dropped and counted. Order does not matter (samples are aggregated), so
 * the consumer simply takes every published record. */
#ifndef IX_CPU_RING_H
#define IX_CPU_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define IX_CPU_MAX_DEPTH 64

struct ix_cpu_rec {
    pid_t tid;
    int32_t weight; /* sampling periods this record stands for (>= 1) */
    int32_t npcs;
    uint32_t labels; /* label set of the thread when sampled (labels/labels.h) */
    int64_t ts;      /* CLOCK_MONOTONIC ns when taken (the execution trace's time axis) */
    uintptr_t pcs[IX_CPU_MAX_DEPTH];
};

/* Record states live in their own dense array (0 free, 1 being written,
 * 2 published) so the consumer's scan reads 4 bytes per record, not a whole
 * record's cache lines. */
struct ix_cpu_ring {
    struct ix_cpu_rec *recs;
    _Atomic uint32_t *states;
    uint32_t n;
    _Atomic uint32_t next;
    _Atomic uint64_t drops;
    _Atomic uint32_t pending; /* published, not yet drained: lets the consumer skip idle scans */
};

/* Allocate n records (mmap, outside any handler). Returns 0 or INTROSPECT_ENOMEM. */
int ix_cpu_ring_init(struct ix_cpu_ring *r, uint32_t n);
void ix_cpu_ring_free(struct ix_cpu_ring *r);
/* Async-signal-safe: a record to fill, or NULL (drop counted). */
struct ix_cpu_rec *ix_cpu_ring_claim(struct ix_cpu_ring *r);
/* Async-signal-safe: make a filled record visible to the consumer. */
void ix_cpu_ring_publish(struct ix_cpu_ring *r, struct ix_cpu_rec *rec);
/* Consumer: call fn on every published record and free it. Returns how many. */
uint32_t ix_cpu_ring_drain(struct ix_cpu_ring *r, void (*fn)(const struct ix_cpu_rec *, void *),
                           void *arg);

#endif
