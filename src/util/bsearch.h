/* Binary search over arrays of records sorted by a leading uint64_t key
 * (address tables: symbols, compile units, scopes). */
#ifndef IX_BSEARCH_H
#define IX_BSEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Index of the first of n records (each `size` bytes, starting with a
 * uint64_t key, sorted by it) whose key is greater than key: the records
 * before it are the candidates to contain key. */
static inline size_t ix_upper_bound(const void *base, size_t n, size_t size, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, (const char *)base + mid * size, sizeof k);
        if (k <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
