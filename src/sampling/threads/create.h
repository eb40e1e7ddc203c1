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

#define IX_THREAD_CREATE_STACKS 1024

/* Counters since the process began (threads made through pthread_create). */
void ix_thread_create_counters(uint64_t *created, uint64_t *exited, uint64_t *failed);
/* The creation stacks, counted by threads created there. */
struct ix_stack_table *ix_thread_create_stacks(void);
/* Threads created at stack id that have exited: live there = its count - this. */
uint64_t ix_thread_create_exited_at(int id);

#endif
