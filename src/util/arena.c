#include "util/arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct ix_arena_block {
    struct ix_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *ix_arena_alloc(struct ix_arena_block **arena, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct ix_arena_block *b = *arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = *arena;
        b->used = 0;
        b->cap = cap;
        *arena = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *ix_arena_strndup(struct ix_arena_block **arena, const char *s, size_t len)
{
    char *d = ix_arena_alloc(arena, len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *ix_arena_strdup(struct ix_arena_block **arena, const char *s)
{
    return ix_arena_strndup(arena, s, strlen(s));
}

void ix_arena_free(struct ix_arena_block **arena)
{
    struct ix_arena_block *b = *arena;
    while (b) {
        struct ix_arena_block *n = b->next;
        free(b);
        b = n;
    }
    *arena = NULL;
}

void *ix_perm_alloc(struct ix_perm_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > IX_PERM_CHUNK)
        return NULL;
    if (a->used + n > IX_PERM_CHUNK) {
        void *c = mmap(NULL, IX_PERM_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (c == MAP_FAILED)
            return NULL;
        a->chunk = c;
        a->used = 0;
        a->mapped += IX_PERM_CHUNK;
    }
    void *p = a->chunk + a->used;
    a->used += n;
    return p;
}
