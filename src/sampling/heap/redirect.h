/* Rebinding the process's malloc to our interposer when another allocator
 * precedes us in symbol lookup order (sampling/heap/redirect.c). */
#ifndef IX_HEAP_REDIRECT_H
#define IX_HEAP_REDIRECT_H

/* Point every loaded object's GOT slots for malloc and friends at our
 * interposer, which then forwards to the allocator that preceded us; later
 * dlopens are rebound too. Returns 0 when at least one slot was rebound, -1
 * when nothing could be (our malloc is already first, not x86-64, ...). */
int ix_heap_redirect(void);
/* GOT slots rebound so far. */
unsigned long ix_heap_redirected_slots(void);

#endif
