#include "util/u64map.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

static size_t slot_of(const struct ix_u64map *m, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (m->cap - 1);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

uint64_t *ix_u64map_get(const struct ix_u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t i = slot_of(m, key);
    return m->used[i] ? &m->vals[i] : NULL;
}

static int grow(struct ix_u64map *m)
{
    struct ix_u64map g = {0};
    g.cap = m->cap ? m->cap * 2 : 256;
    g.keys = malloc(g.cap * sizeof *g.keys);
    g.vals = malloc(g.cap * sizeof *g.vals);
    g.used = calloc(g.cap, 1);
    if (!g.keys || !g.vals || !g.used) {
        ix_u64map_free(&g);
        return INTROSPECT_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i]) {
            size_t k = slot_of(&g, m->keys[i]);
            g.used[k] = 1;
            g.keys[k] = m->keys[i];
            g.vals[k] = m->vals[i];
        }
    g.n = m->n;
    ix_u64map_free(m);
    *m = g;
    return 0;
}

uint64_t *ix_u64map_put(struct ix_u64map *m, uint64_t key, int *added)
{
    *added = 0;
    if ((m->n + 1) * 2 > m->cap && grow(m))
        return NULL;
    size_t i = slot_of(m, key);
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->vals[i] = 0;
        m->n++;
        *added = 1;
    }
    return &m->vals[i];
}

void ix_u64map_free(struct ix_u64map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}
