/* Rebinding the process's malloc to our interposer when another allocator
 * precedes us in symbol lookup order (sampling/heap/redirect.c). */
#ifndef IX_HEAP_REDIRECT_H
#define IX_HEAP_REDIRECT_H

/* Point every loaded object's GOT slots for malloc and friends at our
 * interposer, which then forwards to the allocator that preceded us; later
 * dlopens are rebound too. Returns 0 when at least one slot was rebound;
 * INTROSPECT_EINVAL when there is nothing to redirect (our malloc is already
 * first, the allocator does not define malloc, free and realloc itself, not
 * x86-64 or a sanitizer build), INTROSPECT_ESYS when the loader's tables could
 * not be read or no slot could be rebound. */
int ix_heap_redirect(void);
/* Heap sampling off: point the GOT slots that hold our malloc and friends
 * at the allocator we forward to (ours stay ours), so the process's calls
 * skip the interposer. keep_free: free, realloc and malloc_usable_size stay
 * ours (a bootstrap block or a sample is live). Returns the slots rebound
 * (>= 0), INTROSPECT_ESYS when the loader's tables or the allocator cannot
 * be read, INTROSPECT_EINVAL where there is no interposer. */
int ix_heap_stand_aside(int keep_free);
/* Undo ix_heap_stand_aside (sampling turned on again); 0. */
int ix_heap_step_in(void);
/* GOT slots rebound so far. */
unsigned long ix_heap_redirected_slots(void);

#endif
