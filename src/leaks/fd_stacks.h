/* Descriptors by creating stack (INTROSPECT_FD_STACKS=1, off by default):
 * the calls that create descriptors (socket, socketpair, accept, accept4,
 * pipe, pipe2, eventfd, epoll_create1, open, open64, openat, openat64, dup)
 * are interposed; each new descriptor's creating stack is interned and its
 * id kept in a table indexed by the descriptor (the first IX_FD_STACK_MAX);
 * close clears it. Live descriptors per stack = created - closed, which the
 * leak history keeps as series. Descriptors closed by paths that are not
 * interposed (libc-internal closes) are counted closed when the kernel
 * hands their number out again. Module threads are not recorded. Compiled
 * out in sanitizer builds (their interceptors own these calls). */
#ifndef IX_LEAKS_FD_STACKS_H
#define IX_LEAKS_FD_STACKS_H

#include <stdint.h>

#include "stack/stack_table.h"

#define IX_FD_STACK_MAX 65536
#define IX_FD_STACKS 1024
/* The leak history's key of a descriptor series by creating stack (the
 * others are keyed by type, below 2^32). */
#define IX_FD_STACK_KEY (1ULL << 32)

void ix_fd_stacks_enable(int on);
int ix_fd_stacks_enabled(void);
/* The creating stacks (count = descriptors created there). */
struct ix_stack_table *ix_fd_stacks(void);
/* Descriptors created at stack id that were closed since. */
uint64_t ix_fd_stack_closed(int id);

#endif
