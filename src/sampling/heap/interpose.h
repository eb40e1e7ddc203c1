/* What the malloc interposer (interpose.c) tells the rest of the module:
 * whether it is the process's malloc, and which allocator it forwards to.
 * The heap sampler asks at start to choose its mode; gcstats asks to name
 * the allocator behind it. */
#ifndef IX_HEAP_INTERPOSE_H
#define IX_HEAP_INTERPOSE_H

/* 1 when this library's malloc is the one the process calls. */
int ix_heap_interposing(void);
/* Address of the next malloc (the allocator we forward to, for naming its
 * object), or NULL before the interposer resolved it or in sanitizer builds. */
const void *ix_heap_next_malloc(void);

/* Our entry points, in the order malloc, free, calloc, realloc, reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size (NULL entries in sanitizer builds). */
const void *const *ix_heap_entry_points(void);
/* The next allocator's functions we forward to, in the order above; NULL
 * where ours is built on others (reallocarray, aligned_alloc, memalign,
 * valloc, pvalloc) or before the interposer resolved them. */
void ix_heap_next_entry_points(const void *out[11]);
/* 1 when the bootstrap arena served a block: only our free, realloc and
 * malloc_usable_size may see such a pointer. */
int ix_heap_boot_blocks(void);
/* Forward to the allocator that precedes us in lookup order (the one
 * RTLD_DEFAULT finds) instead of the next one: for sampling/heap/redirect.c,
 * before it rebinds the process's malloc to us. Returns 0, INTROSPECT_ESYS
 * when that allocator's entry points cannot be found, or INTROSPECT_EINVAL in
 * a sanitizer build (no interposer). */
int ix_heap_forward_to_default(void);

#endif
