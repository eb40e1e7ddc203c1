/* A capped, process-lifetime set of distinct stacks with a count each: where
 * threads were created, where sampled tasks were begun. Interning takes a
 * mutex (callers are pthread_create and sampled task begins, never signal
 * handlers); the memory is allocated on first use and never freed, so an id
 * stays valid for the life of the process. When full, new stacks are dropped
 * and counted. */
#ifndef IX_STACK_TABLE_H
#define IX_STACK_TABLE_H

#include <pthread.h>
#include <stdint.h>

#define IX_STACK_MAX_FRAMES 32

struct ix_stack_entry {
    uint64_t hash;
    uint64_t count;
    int npcs;
    uint32_t next; /* hash chain, index + 1 */
    uintptr_t pcs[IX_STACK_MAX_FRAMES];
};

struct ix_stack_table {
    pthread_mutex_t lock;
    uint32_t cap;
    uint32_t n;
    struct ix_stack_entry *entries;
    uint32_t *buckets; /* cap * 2, index + 1 */
    uint64_t dropped;
};

#define IX_STACK_TABLE_INIT(capacity) {PTHREAD_MUTEX_INITIALIZER, (capacity), 0, 0, 0, 0}

/* Find or add the stack, add `add` to its count; returns its id or -1 (full). */
int ix_stack_intern(struct ix_stack_table *t, const uintptr_t *pcs, int npcs, uint64_t add);
/* Copy stack id into pcs (up to max); returns the frame count (0 for a bad id)
 * and its count in *count when count is not NULL. */
int ix_stack_get(struct ix_stack_table *t, int id, uintptr_t *pcs, int max, uint64_t *count);
/* Number of distinct stacks and of stacks dropped because the table was full. */
uint32_t ix_stack_size(struct ix_stack_table *t, uint64_t *dropped);

#endif
