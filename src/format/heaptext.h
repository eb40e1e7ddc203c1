/* Go's legacy heap profile text (?debug=1 on heap/allocs), which pprof
 * still reads: "heap profile: inuse: bytes [allocs: bytes] @ heap/<2*rate>",
 * one line of raw sampled counts and addresses per stack, "#" lines with
 * symbols, Go's "# runtime.MemStats" trailer (comment lines pprof skips),
 * then MAPPED_LIBRARIES (/proc/self/maps) so pprof can map the addresses. */
#ifndef IX_HEAPTEXT_H
#define IX_HEAPTEXT_H

#include <stddef.h>

#include "model/heap_record.h"
#include "util/buf.h"

/* trailer: Go's "# runtime.MemStats" lines (gcstats/memstats.h renders
 * them), copied before MAPPED_LIBRARIES; NULL for none. */
int ix_heap_text_encode(const struct ix_heap_record *r, size_t n, int64_t rate,
                        const ix_buf *trailer, ix_buf *out);

#endif
