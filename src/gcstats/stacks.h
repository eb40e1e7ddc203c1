/* Thread stacks in Go's runtime.MemStats terms (StackSys, StackInuse). */
#ifndef IX_STACKS_H
#define IX_STACKS_H

#include <stdint.h>

struct ix_stack_stats {
    uint64_t sys;    /* bytes of the mappings that hold thread stacks (address space) */
    uint64_t inuse;  /* resident bytes of those mappings (pages the threads touched) */
    uint64_t stacks; /* mappings counted */
};

/* Returns 0, INTROSPECT_ENOMEM, or INTROSPECT_ESYS when /proc/self/smaps could
 * not be read (fields zero). */
int ix_stack_stats_read(struct ix_stack_stats *s);

#endif
