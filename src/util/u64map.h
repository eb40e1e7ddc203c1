/* A hash map from 64-bit keys (addresses, pointers) to 64-bit values:
 * open addressing, linear probing, kept at most half full. */
#ifndef IX_U64MAP_H
#define IX_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct ix_u64map {
    uint64_t *keys, *vals;
    unsigned char *used;
    size_t cap, n; /* cap is 0 or a power of two */
};

/* The value slot of key, or NULL when absent. */
uint64_t *ix_u64map_get(const struct ix_u64map *m, uint64_t key);
/* The value slot of key, inserted (value 0, *added = 1) when absent; NULL on OOM. */
uint64_t *ix_u64map_put(struct ix_u64map *m, uint64_t key, int *added);
/* Forget every entry, keeping nothing allocated. */
void ix_u64map_free(struct ix_u64map *m);

#endif
