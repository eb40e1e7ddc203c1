#include "util/pages.h"

#include <stdint.h>
#include <sys/mman.h>

/* The mapping's length sits in front of the block; 16 bytes keep the
 * block aligned for any type. */
enum { HEADER = 16 };

static void *map(size_t n, size_t size, int flags)
{
    if (size && n > (SIZE_MAX - HEADER) / size)
        return NULL;
    size_t len = HEADER + n * size;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    *(size_t *)m = len;
    return (char *)m + HEADER;
}

void *ix_pages_calloc(size_t n, size_t size) { return map(n, size, 0); }

void *ix_pages_populated(size_t size) { return map(1, size, MAP_POPULATE); }

void ix_pages_free(void *p)
{
    if (!p)
        return;
    void *m = (char *)p - HEADER;
    munmap(m, *(size_t *)m);
}
