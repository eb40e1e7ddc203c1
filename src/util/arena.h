/* A bump allocator freed all at once: profiles and their resolved views are
 * built, encoded and thrown away, so per-object frees buy nothing. */
#ifndef IX_ARENA_H
#define IX_ARENA_H

#include <stddef.h>

struct ix_arena_block;

void *ix_arena_alloc(struct ix_arena_block **arena, size_t n);
char *ix_arena_strdup(struct ix_arena_block **arena, const char *s);
void ix_arena_free(struct ix_arena_block **arena);

#endif
