/* The process allocator, detected at run time with no link to any of them:
 * glibc (mallinfo2), tcmalloc (MallocExtension_GetNumericProperty) or
 * jemalloc (mallctl after an "epoch" refresh). */
#ifndef IX_ALLOCATOR_H
#define IX_ALLOCATOR_H

#include <stdint.h>

#define IX_ALLOC_MAX_STATS 16

struct ix_alloc_stat {
    const char *name; /* snake_case, unit-suffixed: "allocated_bytes" */
    double value;
};

/* "glibc", "tcmalloc", "jemalloc" or "unknown". */
const char *ix_allocator_name(void);
/* The file that provides malloc (e.g. "/usr/lib/.../libjemalloc.so.2"), or "". */
const char *ix_allocator_path(void);
/* Fill up to IX_ALLOC_MAX_STATS figures; returns how many. */
int ix_allocator_stats(struct ix_alloc_stat *out);
/* Headline figures shared by memstats lines: bytes the application holds and
 * bytes the allocator holds from the OS (-1 when unknown). */
void ix_allocator_headline(double *inuse_bytes, double *mapped_bytes);

/* The allocator's own figures in Go's runtime.MemStats terms, in bytes.
 *   glibc (mallinfo2):  alloc = inuse = uordblks + hblkhd (arena chunks in use,
 *                       headers included, plus mmapped blocks); sys = arena + hblkhd;
 *                       idle = fordblks; released = 0 (glibc does not count it).
 *   tcmalloc:           alloc = generic.current_allocated_bytes; sys = generic.heap_size;
 *                       released = pageheap_unmapped; idle = pageheap_free + released;
 *                       inuse = sys - idle (caches included, as Go's in-use spans).
 *   jemalloc:           alloc = stats.allocated; inuse = stats.active;
 *                       sys = stats.mapped + stats.retained; released = stats.retained;
 *                       idle = sys - inuse; meta = stats.metadata.
 * Returns 0, or INTROSPECT_ELIBRARY when the allocator is unknown (fields zero). */
struct ix_alloc_heap {
    uint64_t alloc, inuse, sys, idle, released, meta;
};
int ix_allocator_heap(struct ix_alloc_heap *h);

#endif
