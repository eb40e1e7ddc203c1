/* Text encoders of a resolved profile (the pprof encoder is in pprof.h).
 * value_index selects the sample type to show (e.g. cpu/nanoseconds). */
#ifndef IX_ENCODERS_H
#define IX_ENCODERS_H

#include "model/profile.h"
#include "util/buf.h"

/* Brendan Gregg's folded stacks: "root;...;leaf value\n", inlined frames
 * expanded, identical stacks merged. Returns 0 or -1. */
int ix_folded_encode(const struct ix_resolved *r, int value_index, ix_buf *out);
/* The JSON profile model (docs/profile-json.md), read by the web UI. */
int ix_profile_json_encode(const struct ix_resolved *r, ix_buf *out);
/* Human-readable: totals, comments, top functions by flat and cumulative,
 * then the heaviest stacks (pprof -top style). */
int ix_text_top_encode(const struct ix_resolved *r, int value_index, ix_buf *out);

#endif
