/* A malloc-bound workload with a known leak, shared by the heap tests and
 * bench/heap. Every function is noinline and non-static so its name shows
 * in profiles. */
#ifndef IX_HEAP_WORKLOAD_H
#define IX_HEAP_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Leak `count` blocks of `size` bytes (kept reachable in a global list). */
void leak_memory(size_t count, size_t size);
/* The same from a second function (the leak of a delta window). */
void leak_more(size_t count, size_t size);
/* malloc/free churn: `iters` malloc+free pairs on a ring of 1024 live blocks of 16..2064
 * bytes; everything is freed before returning. Returns a checksum. */
uint64_t churn(unsigned long iters, unsigned seed);
/* Bytes leaked so far by leak_memory (0) / leak_more (1): the exact truth. */
size_t leaked_bytes(int which);
/* Free everything leaked (for valgrind-clean exits). */
void leak_release(void);

#endif
