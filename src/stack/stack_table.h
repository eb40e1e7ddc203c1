/* A capped, process-lifetime set of distinct stacks: where threads were
 * created, where sampled tasks were begun, where pools blocked. A stack is
 * interned with a small integer key beside it (the block profile's pool
 * slot; 0 elsewhere), so (key, stack) pairs get one dense id each. Interning
 * takes a mutex (callers are pthread_create, sampled task begins and sampled
 * pool waits, never signal handlers). The memory is allocated on first use
 * and never freed or moved, so an id, and the frames ix_stack_frames returns
 * for it, stay valid for the life of the process. When full, new stacks are
 * dropped and counted.
 *
 * Two other stack tables stay apart on purpose: the heap sampler's buckets
 * (sampling/heap/sampler.c) run inside malloc, so they allocate from mmap'd
 * permanent chunks and must never call malloc; a profile's samples
 * (model/profile.c) are keyed by stack and labels and die with the profile. */
#ifndef IX_STACK_TABLE_H
#define IX_STACK_TABLE_H

#include <pthread.h>
#include <stdint.h>

#define IX_STACK_MAX_FRAMES 32 /* the default depth kept per stack */

struct ix_stack_entry {
    uint64_t hash;
    uint64_t count;
    int key;
    int npcs;
    uint32_t next; /* hash chain, index + 1 */
};

struct ix_stack_table {
    pthread_mutex_t lock;
    uint32_t cap;
    int depth; /* frames kept per stack */
    uint32_t n;
    struct ix_stack_entry *entries;
    uintptr_t *frames; /* cap * depth */
    uint32_t *buckets; /* cap * 2, index + 1 */
    uint64_t dropped;
};

#define IX_STACK_TABLE_INIT_DEPTH(capacity, frames)                                              \
    {PTHREAD_MUTEX_INITIALIZER, (capacity), (frames), 0, 0, 0, 0, 0}
#define IX_STACK_TABLE_INIT(capacity) IX_STACK_TABLE_INIT_DEPTH(capacity, IX_STACK_MAX_FRAMES)

/* Find or add the stack, add `add` to its count; returns its id or -1 (full
 * or out of memory). Stacks deeper than the table's depth are cut. */
int ix_stack_intern(struct ix_stack_table *t, const uintptr_t *pcs, int npcs, uint64_t add);
/* The same with a key: (key, stack) pairs are distinct entries. */
int ix_stack_intern_key(struct ix_stack_table *t, int key, const uintptr_t *pcs, int npcs,
                        uint64_t add);
/* Add `add` to the count of an interned stack id. */
void ix_stack_add(struct ix_stack_table *t, int id, uint64_t add);
/* Copy stack id into pcs (up to max); returns the frame count (0 for a bad id)
 * and its count in *count when count is not NULL. */
int ix_stack_get(struct ix_stack_table *t, int id, uintptr_t *pcs, int max, uint64_t *count);
/* The frames and key of an id returned earlier (no copy: they never change). */
const uintptr_t *ix_stack_frames(const struct ix_stack_table *t, int id, int *npcs, int *key);
/* Free a table that is not process-lifetime (the execution trace's CPU
 * stacks, one table per trace): its ids die with it. Returns it to its
 * initial, empty state. */
void ix_stack_table_release(struct ix_stack_table *t);
/* Number of distinct stacks and of stacks dropped because the table was full. */
uint32_t ix_stack_size(struct ix_stack_table *t, uint64_t *dropped);

#endif
