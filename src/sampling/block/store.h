/* The block profile's store: sampled waits on instrumented pools, by stack
 * and pool, cumulative since the process started (as Go's block profile).
 *
 * Sampling follows Go's runtime.SetBlockProfileRate: a wait of d ns is kept
 * with probability d / rate (always when d >= rate), and a kept short wait
 * counts rate / d contentions and rate ns of delay, so the expected totals
 * equal the true ones. The store is bounded: at most IX_BLOCK_MAX_STACKS
 * distinct (pool, stack) pairs; waits on new stacks beyond that are dropped
 * and counted.
 *
 * Each wait carries the labels (labels/labels.h) the waiting thread had
 * while it waited: the thread records its own wait after it ends, so it
 * reads its own current set (a blocked thread cannot change it). The
 * stack table's key holds both: pool slot in the low IX_BLOCK_POOL_BITS,
 * label set id above, so (pool, labels, stack) triples are distinct. */
#ifndef IX_BLOCK_H
#define IX_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"

#define IX_BLOCK_DEPTH 64
#define IX_BLOCK_MAX_STACKS 4096
#define IX_BLOCK_DEFAULT_RATE 10000
#define IX_BLOCK_POOL_BITS 12 /* pool slots below 4096; label ids (< 4096) above */

/* The current rate in ns (0 = off). */
int64_t ix_block_rate(void);
/* Go's blocksampled(): should a wait of ns be recorded at this rate? */
int ix_block_sampled(int64_t ns, int64_t rate);
/* Record one sampled wait of pool slot `pool` with its stack (leaf first),
 * under label set `labels` (the waiter's ix_labels_current()). */
void ix_block_record(int pool, uint32_t labels, int64_t ns, int64_t rate, const uintptr_t *pcs,
                     int npcs);

/* Cumulative values of every stored stack at one moment, indexed by the
 * stack's id (ids are dense and stable, so two snapshots subtract). */
struct ix_block_snap {
    size_t n;
    int64_t *count; /* contentions, scaled */
    int64_t *delay; /* nanoseconds, scaled */
    uint64_t dropped;
    int64_t time_ns; /* CLOCK_REALTIME */
};
/* Returns 0 or INTROSPECT_ENOMEM. */
int ix_block_snapshot(struct ix_block_snap *s);
void ix_block_snap_free(struct ix_block_snap *s);
/* Fill p (already initialised) with now - base (base NULL: everything since
 * start). Stacks whose values did not change are left out. Each sample gets
 * a "pool" label named by pool_name(slot) (the caller's: the store knows
 * slots, not the registry that names them) and the wait's label set. Returns 0 or INTROSPECT_ENOMEM. */
int ix_block_profile(struct ix_profile *p, const struct ix_block_snap *now,
                     const struct ix_block_snap *base, const char *(*pool_name)(int slot));

/* Lifecycle: apply the configured rate at start. */
struct ix_config;
int ix_block_start(const struct ix_config *cfg, char *why, size_t whylen);

#endif
