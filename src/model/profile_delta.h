/* Delta profiles (Go 1.16+ `?seconds=N` on heap, allocs, block, mutex):
 * the change between two snapshots of a cumulative profile. */
#ifndef IX_PROFILE_DELTA_H
#define IX_PROFILE_DELTA_H

#include "model/profile.h"

/* out = cur - base, matched by stack and labels (every value type is
 * subtracted, as Go does); samples whose values all become zero are dropped.
 * out takes cur's name, types, period and time; duration_nanos is
 * cur->time_nanos - base->time_nanos. Returns 0, or INTROSPECT_ENOMEM (out freed). */
int ix_profile_delta(const struct ix_profile *cur, const struct ix_profile *base,
                     struct ix_profile *out);

#endif
