#include "stack/stack_table.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_pcs(const uintptr_t *pcs, int n)
{
    return ix_hash_fold(ix_hash_pcs(IX_HASH_INIT, pcs, n));
}

static int ensure_alloc(struct ix_stack_table *t)
{
    if (t->entries)
        return 0;
    t->entries = calloc(t->cap, sizeof *t->entries);
    t->buckets = calloc((size_t)t->cap * 2, sizeof *t->buckets);
    if (!t->entries || !t->buckets) {
        free(t->entries);
        free(t->buckets);
        t->entries = NULL;
        t->buckets = NULL;
        return -1;
    }
    return 0;
}

int ix_stack_intern(struct ix_stack_table *t, const uintptr_t *pcs, int npcs, uint64_t add)
{
    if (npcs > IX_STACK_MAX_FRAMES)
        npcs = IX_STACK_MAX_FRAMES;
    if (npcs < 0)
        npcs = 0;
    uint64_t h = hash_pcs(pcs, npcs);
    int id = -1;
    pthread_mutex_lock(&t->lock);
    if (ensure_alloc(t) == 0) {
        uint32_t b = (uint32_t)(h % ((uint64_t)t->cap * 2));
        for (uint32_t i = t->buckets[b]; i; i = t->entries[i - 1].next) {
            struct ix_stack_entry *e = &t->entries[i - 1];
            if (e->hash == h && e->npcs == npcs &&
                memcmp(e->pcs, pcs, (size_t)npcs * sizeof *pcs) == 0) {
                id = (int)(i - 1);
                break;
            }
        }
        if (id < 0 && t->n < t->cap) {
            struct ix_stack_entry *e = &t->entries[t->n];
            e->hash = h;
            e->npcs = npcs;
            memcpy(e->pcs, pcs, (size_t)npcs * sizeof *pcs);
            e->next = t->buckets[b];
            t->buckets[b] = t->n + 1;
            id = (int)t->n++;
        }
    }
    if (id >= 0)
        t->entries[id].count += add;
    else
        t->dropped += add ? add : 1;
    pthread_mutex_unlock(&t->lock);
    return id;
}

int ix_stack_get(struct ix_stack_table *t, int id, uintptr_t *pcs, int max, uint64_t *count)
{
    int n = 0;
    pthread_mutex_lock(&t->lock);
    if (id >= 0 && (uint32_t)id < t->n) {
        const struct ix_stack_entry *e = &t->entries[id];
        n = e->npcs < max ? e->npcs : max;
        memcpy(pcs, e->pcs, (size_t)n * sizeof *pcs);
        if (count)
            *count = e->count;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

uint32_t ix_stack_size(struct ix_stack_table *t, uint64_t *dropped)
{
    pthread_mutex_lock(&t->lock);
    uint32_t n = t->n;
    if (dropped)
        *dropped = t->dropped;
    pthread_mutex_unlock(&t->lock);
    return n;
}
