/* The process allocator, detected at run time with no link to any of them:
 * glibc (mallinfo2), tcmalloc (MallocExtension_GetNumericProperty) or
 * jemalloc (mallctl after an "epoch" refresh). */
#ifndef IX_ALLOCATOR_H
#define IX_ALLOCATOR_H

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

#endif
