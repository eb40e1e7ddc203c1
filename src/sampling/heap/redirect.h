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
/* GOT slots rebound so far. */
unsigned long ix_heap_redirected_slots(void);

#endif
