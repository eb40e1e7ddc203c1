/* Doubles kept in 64-bit atomics (C11 has no atomic double add): the bits
 * are stored as an integer and updated with a CAS loop, so concurrent adds
 * are exact. */
#ifndef IX_ATOMIC_DOUBLE_H
#define IX_ATOMIC_DOUBLE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static inline double ix_from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static inline uint64_t ix_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static inline void ix_atomic_add_double(_Atomic uint64_t *a, double delta)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, ix_to_bits(ix_from_bits(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

#endif
