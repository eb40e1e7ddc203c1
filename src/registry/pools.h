/* The pool registry: the per-pool atomics behind the public introspect_pool_*
 * API. Collectors (/metrics, /debug/vars) read whole-pool snapshots; the
 * block profile names its samples with ix_pool_name. */
#ifndef IX_POOLS_H
#define IX_POOLS_H

#include <stddef.h>
#include <stdint.h>

#include "introspect.h"

#define IX_POOL_MAX 64
#define IX_POOL_NAME_MAX 64
#define IX_POOL_NCLOSE INTROSPECT_POOL_NCLOSE

/* Wait histogram upper bounds: 1-2-5 steps from 1 us to 10 s (+Inf implicit). */
#define IX_POOL_NBOUNDS 22
extern const int64_t ix_pool_bounds_ns[IX_POOL_NBOUNDS];
/* The same bounds in seconds, for the metrics model. */
extern const double ix_pool_bounds_s[IX_POOL_NBOUNDS];

struct ix_pool_snapshot {
    char name[IX_POOL_NAME_MAX];
    introspect_pool_stats st;
    uint64_t buckets[IX_POOL_NBOUNDS + 1]; /* per bucket, not cumulative; last = +Inf */
};

/* Copy every registered pool, in registration order. Returns how many were
 * written (at most max). Each pool is copied field by field without a lock,
 * so figures updated meanwhile may be one event apart. */
size_t ix_pools_snapshot(struct ix_pool_snapshot *out, size_t max);
/* The name of the pool in slot idx (as carried by block samples), or "?". */
const char *ix_pool_name(int idx);
/* Which histogram bucket a wait of ns falls into (0 .. IX_POOL_NBOUNDS). */
int ix_pool_bucket(int64_t ns);

#endif
