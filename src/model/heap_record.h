/* One sampled allocation stack, as the heap sampler hands it out and the
 * heap encoders (format/heaptext.c, Go's legacy text) read it. */
#ifndef IX_HEAP_RECORD_H
#define IX_HEAP_RECORD_H

#include <stdint.h>

/* One (stack, block size) bucket: raw (unscaled) sampled counts, as Go's MemProfileRecord. */
struct ix_heap_record {
    const uintptr_t *pcs; /* leaf first, return addresses; owned by the sampler, never freed */
    int npcs;
    uint64_t allocs, alloc_bytes, frees, free_bytes;
    uint64_t size; /* the block size of every allocation in the bucket */
    uint32_t labels; /* label set of the allocating thread (labels/labels.h); 0 none */
};

#endif
