/* A bump allocator freed all at once: profiles and their resolved views are
 * built, encoded and thrown away, so per-object frees buy nothing. */
#ifndef IX_ARENA_H
#define IX_ARENA_H

#include <stddef.h>

struct ix_arena_block;

void *ix_arena_alloc(struct ix_arena_block **arena, size_t n);
char *ix_arena_strdup(struct ix_arena_block **arena, const char *s);
/* The first len bytes of s (no NUL needed among them), NUL-terminated. */
char *ix_arena_strndup(struct ix_arena_block **arena, const char *s, size_t len);
void ix_arena_free(struct ix_arena_block **arena);

/* A permanent arena: mmap'd chunks of IX_PERM_CHUNK bytes, never freed and
 * never touching malloc, for tables that live inside malloc (the heap
 * sampler's stack buckets) and must outlive every reader. Not locked: the
 * caller serialises. Returns 16-byte aligned zeroed memory, or NULL when n
 * exceeds a chunk or mmap fails. */
#define IX_PERM_CHUNK (1u << 20)
struct ix_perm_arena {
    char *chunk;
    size_t used; /* IX_PERM_CHUNK or 0 when empty: see IX_PERM_ARENA_INIT */
    size_t mapped; /* bytes of chunks mapped so far */
};
#define IX_PERM_ARENA_INIT {0, IX_PERM_CHUNK, 0}
void *ix_perm_alloc(struct ix_perm_arena *a, size_t n);

#endif
