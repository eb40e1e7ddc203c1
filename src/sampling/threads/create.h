/* Where threads are created: the library interposes pthread_create (the
 * host's calls resolve to ours when libintrospect is linked or preloaded),
 * records the creating stack in a capped stack table, forwards to the real
 * pthread_create found with dlsym(RTLD_NEXT), and wraps the start routine so
 * exits are counted too (by a thread-specific key destructor, which runs on
 * return, pthread_exit and cancellation alike). Threads made with raw
 * clone(2) are not seen. */
#ifndef IX_THREAD_CREATE_H
#define IX_THREAD_CREATE_H

#include <stdint.h>

#include "stack/stack_table.h"

/* Run begin(start routine) in each new thread before its start routine and
 * end() as it exits (NULL: none). Set once by a sampler (sampling/cpu). */
void ix_thread_set_hooks(void (*begin)(void *start_fn), void (*end)(void));
#define IX_THREAD_CREATE_STACKS 1024

/* Counters since the process began (threads made through pthread_create). */
void ix_thread_create_counters(uint64_t *created, uint64_t *exited, uint64_t *failed);
/* The creation stacks, counted by threads created there. */
struct ix_stack_table *ix_thread_create_stacks(void);
/* Fork safety for the creation stacks: a scrape reading them on a module
 * thread at the instant of a fork would leave their lock held in the child,
 * whose first pthread_create would then block forever. Registers atfork
 * handlers that take the lock around fork (once; call after the heap
 * sampler started, so the lock order stack table -> heap holds in prepare). */
void ix_thread_create_fork_safe(void);
/* Threads created at stack id that have exited: live there = its count - this. */
uint64_t ix_thread_create_exited_at(int id);

#endif
