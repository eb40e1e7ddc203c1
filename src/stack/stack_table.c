#include "stack/stack_table.h"
#include "util/hash.h"
#include "util/pages.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

static uint64_t hash_stack(int key, const uintptr_t *pcs, int n)
{
    uint64_t h = key ? ix_hash_u64(IX_HASH_INIT, (uint64_t)key) : IX_HASH_INIT;
    return ix_hash_fold(ix_hash_pcs(h, pcs, n));
}

static uintptr_t *frames_of(const struct ix_stack_table *t, uint32_t id)
{
    return t->frames + (size_t)id * (size_t)t->depth;
}

static void free_arrays(struct ix_stack_table *t)
{
    ix_pages_free(t->entries);
    ix_pages_free(t->frames);
    ix_pages_free(t->buckets);
    t->entries = NULL;
    t->frames = NULL;
    t->buckets = NULL;
}

static int ensure_alloc(struct ix_stack_table *t)
{
    if (t->entries)
        return 0;
    /* Often first reached on a host thread: not in its heap (util/pages.h). */
    t->entries = ix_pages_calloc(t->cap, sizeof *t->entries);
    t->frames = ix_pages_calloc((size_t)t->cap * (size_t)t->depth, sizeof *t->frames);
    t->buckets = ix_pages_calloc((size_t)t->cap * 2, sizeof *t->buckets);
    if (!t->entries || !t->frames || !t->buckets) {
        free_arrays(t);
        return INTROSPECT_ENOMEM;
    }
    return 0;
}

int ix_stack_intern(struct ix_stack_table *t, const uintptr_t *pcs, int npcs, uint64_t add)
{
    return ix_stack_intern_key(t, 0, pcs, npcs, add);
}

int ix_stack_intern_key(struct ix_stack_table *t, int key, const uintptr_t *pcs, int npcs,
                        uint64_t add)
{
    if (npcs > t->depth)
        npcs = t->depth;
    if (npcs < 0)
        npcs = 0;
    uint64_t h = hash_stack(key, pcs, npcs);
    int id = -1;
    pthread_mutex_lock(&t->lock);
    if (ensure_alloc(t) == 0) {
        uint32_t b = (uint32_t)(h % ((uint64_t)t->cap * 2));
        for (uint32_t i = t->buckets[b]; i; i = t->entries[i - 1].next) {
            struct ix_stack_entry *e = &t->entries[i - 1];
            if (e->hash == h && e->key == key && e->npcs == npcs &&
                memcmp(frames_of(t, i - 1), pcs, (size_t)npcs * sizeof *pcs) == 0) {
                id = (int)(i - 1);
                break;
            }
        }
        if (id < 0 && t->n < t->cap) {
            struct ix_stack_entry *e = &t->entries[t->n];
            e->hash = h;
            e->key = key;
            e->npcs = npcs;
            memcpy(frames_of(t, t->n), pcs, (size_t)npcs * sizeof *pcs);
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

void ix_stack_add(struct ix_stack_table *t, int id, uint64_t add)
{
    pthread_mutex_lock(&t->lock);
    if (id >= 0 && (uint32_t)id < t->n)
        t->entries[id].count += add;
    pthread_mutex_unlock(&t->lock);
}

int ix_stack_get(struct ix_stack_table *t, int id, uintptr_t *pcs, int max, uint64_t *count)
{
    int n = 0;
    pthread_mutex_lock(&t->lock);
    if (id >= 0 && (uint32_t)id < t->n) {
        const struct ix_stack_entry *e = &t->entries[id];
        n = e->npcs < max ? e->npcs : max;
        memcpy(pcs, frames_of(t, (uint32_t)id), (size_t)n * sizeof *pcs);
        if (count)
            *count = e->count;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

const uintptr_t *ix_stack_frames(const struct ix_stack_table *t, int id, int *npcs, int *key)
{
    /* id came from ix_stack_intern: its entry was written before the id was
     * handed out (under the lock) and never changes after. */
    const struct ix_stack_entry *e = &t->entries[id];
    *npcs = e->npcs;
    if (key)
        *key = e->key;
    return frames_of(t, (uint32_t)id);
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

void ix_stack_table_release(struct ix_stack_table *t)
{
    pthread_mutex_lock(&t->lock);
    free_arrays(t);
    t->n = 0;
    t->dropped = 0;
    pthread_mutex_unlock(&t->lock);
}
