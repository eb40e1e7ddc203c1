/* One hash for every table: 64-bit FNV-1a, with a final fold for tables
 * that index by the low bits (FNV's low bits mix poorly for pointer-sized
 * inputs whose low bits are alike, such as return addresses).
 * Header-only: the hash tables call it per byte or per frame. */
#ifndef IX_HASH_H
#define IX_HASH_H

#include <stddef.h>
#include <stdint.h>

#define IX_HASH_INIT 1469598103934665603ULL /* FNV-1a 64 offset basis */
#define IX_HASH_PRIME 1099511628211ULL

/* Feed one 64-bit word. */
static inline uint64_t ix_hash_u64(uint64_t h, uint64_t v)
{
    return (h ^ v) * IX_HASH_PRIME;
}

/* Feed n bytes. */
static inline uint64_t ix_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * IX_HASH_PRIME;
    return h;
}

/* Feed a NUL-terminated string (NULL hashes as empty). */
static inline uint64_t ix_hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * IX_HASH_PRIME;
    return h;
}

/* Feed a stack of program counters. */
static inline uint64_t ix_hash_pcs(uint64_t h, const uintptr_t *pcs, int n)
{
    for (int i = 0; i < n; i++)
        h = (h ^ (uint64_t)pcs[i]) * IX_HASH_PRIME;
    return h;
}

/* Fold the high bits into the low ones before indexing by a mask. */
static inline uint64_t ix_hash_fold(uint64_t h)
{
    return h ^ (h >> 29);
}

#endif
