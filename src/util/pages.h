/* Zeroed memory of the module's own, straight from mmap.
 *
 * The module's long-lived tables (stack tables, the gate's buffer) are often
 * first needed on a host thread: the constructor, a host pthread_create, a
 * host task or lock wait. From malloc they would land in that thread's arena,
 * usually glibc's main heap, and change its layout: on a malloc-bound churn
 * 78 KB left there moved glibc's trim/regrow cycle from 1,678 to 2,072 brk
 * calls and added ~650 page faults (bench/README.md, "Cost"). Pages the host's
 * allocator never sees keep its heap exactly as it would be without us. */
#ifndef IX_PAGES_H
#define IX_PAGES_H

#include <stddef.h>

/* n * size zeroed bytes, or NULL (overflow, or mmap failed). */
void *ix_pages_calloc(size_t n, size_t size);

/* size bytes about to be written whole (an inflated debug section): the
 * kernel provides every page in the mmap call (MAP_POPULATE) instead of one
 * page fault per page, ~2x cheaper on this project's VMs. Freed with
 * ix_pages_free, which gives the pages back to the system at once. */
void *ix_pages_populated(size_t size);

/* Gives back memory from ix_pages_calloc or ix_pages_populated; NULL is ignored. */
void ix_pages_free(void *p);

#endif
