/* One pseudo-random generator: xorshift64* (Vigna). Not cryptographic; for
 * sampling decisions only. The state is the caller's (a thread-local or a
 * field of a single-writer struct), so no cache line is shared on hot paths.
 * A zero state is a fixed point: seed with ix_rand_seed. */
#ifndef IX_RANDOM_H
#define IX_RANDOM_H

#include <stdint.h>

#include "util/clock.h"

/* A non-zero seed from the clock, an address unique to the caller and a
 * counter, through splitmix64's finalizer: threads that reuse one stack (and
 * TLS address) within one clock tick still get unrelated seeds. */
static inline uint64_t ix_rand_seed(const void *salt)
{
    static uint64_t counter; /* one per translation unit: enough; GCC builtins, not _Atomic */
    uint64_t z = (uint64_t)ix_mono_ns() ^ ((uint64_t)(uintptr_t)salt * 0x9E3779B97F4A7C15ULL) ^
                 __atomic_fetch_add(&counter, 0xD1B54A32D192ED03ULL, __ATOMIC_RELAXED);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) | 1;
}

static inline uint64_t ix_rand_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in (0, 1], from the top 53 bits. */
static inline double ix_rand_unit(uint64_t *s)
{
    return (double)((ix_rand_next(s) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

#endif
