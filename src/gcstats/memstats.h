/* Go's runtime.MemStats for a C process: every field, filled from exact
 * figures where C has them and zero where it has no counterpart (see
 * memstats.c for each field's source). /debug/vars "memstats" and the
 * "# runtime.MemStats" trailer of heap?debug=1 are written from this. */
#ifndef IX_MEMSTATS_H
#define IX_MEMSTATS_H

#include <stdint.h>

#include "util/json.h"
#include "util/buf.h"

#define IX_MEMSTATS_BYSIZE 61 /* len(runtime.MemStats.BySize) */

struct ix_memstats {
    uint64_t alloc, total_alloc, sys, lookups, mallocs, frees;
    uint64_t heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released, heap_objects;
    uint64_t stack_inuse, stack_sys, mspan_inuse, mspan_sys, mcache_inuse, mcache_sys;
    uint64_t buck_hash_sys, gc_sys, other_sys, next_gc, last_gc, pause_total_ns;
    uint32_t num_gc, num_forced_gc;
    double gc_cpu_fraction;
    int enable_gc, debug_gc;
    int allocator_known; /* 0: the Heap* and Alloc fields are zero (unknown allocator) */
    uint64_t max_rss;    /* getrusage ru_maxrss in bytes, for the text trailer */
};

void ix_memstats_read(struct ix_memstats *m);
/* Go's 32 fields as key/value pairs of an open JSON object, Go's names,
 * order and JSON types (PauseNs/PauseEnd 256 numbers, BySize 61 objects). */
void ix_memstats_go_json(introspect_json *j, const struct ix_memstats *m);
/* Go's heap?debug=1 trailer, from "\n# runtime.MemStats\n" to "# MaxRSS = N". */
void ix_memstats_go_text(ix_buf *out, const struct ix_memstats *m);

#endif
