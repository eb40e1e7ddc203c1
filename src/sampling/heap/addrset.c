/* The set of live sampled pointers: pointer -> (stack bucket, size).
 *
 * Every free asks "was this pointer sampled?", so the answer for the common
 * "no" must be nearly free. Two levels:
 *   1. ix_heap_filter: 32768 bits (4 KiB, so it stays in L1) indexed by a
 *      hash of the pointer; a bit is set while at least one live sampled
 *      pointer hashes there (counted in `counts`, written only under the
 *      sampler lock). A clear bit means "not sampled" after one load. With
 *      L live samples a foreign pointer passes with probability about
 *      L / 32768 (a 1 GiB heap at the default rate holds ~2000 samples).
 *   2. an open-addressed table (linear probing, at most PROBE slots) read
 *      without locks: insert and remove happen only for sampled pointers,
 *      rarely, under the sampler lock, and removal leaves a tombstone so a
 *      concurrent reader never misses a key that moved.
 * Both live in memory from mmap, never from malloc, and are never freed:
 * a sampled pointer may be freed after introspect_stop(). */
#include <stdatomic.h>
#include <sys/mman.h>

#include "sampling/heap/internal.h"

#define SET_BITS 20
#define SET_SIZE (1u << SET_BITS)
#define PROBE 64
#define TOMB ((uintptr_t)1)

struct slot_val {
    struct ix_heap_bucket *bucket;
    size_t size;
};

uint64_t ix_heap_filter[(1u << IX_HEAP_FILTER_BITS) / 64];
static uint32_t counts[1u << IX_HEAP_FILTER_BITS];
static _Atomic(uintptr_t) *keys;
static struct slot_val *vals;

int ix_addrset_init(void)
{
    if (keys)
        return 0;
    void *k = mmap(NULL, SET_SIZE * sizeof *keys, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *v = mmap(NULL, SET_SIZE * sizeof *vals, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (k == MAP_FAILED || v == MAP_FAILED) {
        if (k != MAP_FAILED)
            munmap(k, SET_SIZE * sizeof *keys);
        if (v != MAP_FAILED)
            munmap(v, SET_SIZE * sizeof *vals);
        return -1;
    }
    vals = v;
    keys = k;
    return 0;
}

static size_t home(const void *p)
{
    return (size_t)(ix_heap_hash(p) >> (64 - SET_BITS));
}

/* Under the sampler lock: count p in or out of its filter bit. */
static void filter_add(const void *p, int delta)
{
    uint64_t h = ix_heap_hash(p) >> (64 - IX_HEAP_FILTER_BITS);
    counts[h] += (uint32_t)delta;
    uint64_t bit = 1ULL << (h & 63), w = ix_heap_filter[h >> 6];
    w = counts[h] ? w | bit : w & ~bit;
    __atomic_store_n(&ix_heap_filter[h >> 6], w, __ATOMIC_RELEASE);
}

int ix_addrset_insert(void *p, struct ix_heap_bucket *b, size_t size)
{
    if (!keys)
        return -1;
    size_t h = home(p);
    for (size_t i = 0; i < PROBE; i++) {
        size_t s = (h + i) & (SET_SIZE - 1);
        uintptr_t k = atomic_load_explicit(&keys[s], memory_order_relaxed);
        if (k == 0 || k == TOMB) {
            vals[s] = (struct slot_val){b, size};
            filter_add(p, 1);
            atomic_store_explicit(&keys[s], (uintptr_t)p, memory_order_release);
            return 0;
        }
    }
    return -1;
}

static long find(const void *p)
{
    if (!keys)
        return -1;
    size_t h = home(p);
    for (size_t i = 0; i < PROBE; i++) {
        size_t s = (h + i) & (SET_SIZE - 1);
        uintptr_t k = atomic_load_explicit(&keys[s], memory_order_acquire);
        if (k == (uintptr_t)p)
            return (long)s;
        if (k == 0)
            return -1;
    }
    return -1;
}

int ix_addrset_contains(const void *p) { return find(p) >= 0; }

int ix_addrset_remove(const void *p, struct ix_heap_bucket **b, size_t *size)
{
    long s = find(p);
    if (s < 0)
        return 0;
    *b = vals[s].bucket;
    *size = vals[s].size;
    /* A tombstone followed by an empty slot ends no live chain: clear it and
     * the tombstones before it, so chains do not fill up with them. */
    size_t i = (size_t)s;
    if (atomic_load_explicit(&keys[(i + 1) & (SET_SIZE - 1)], memory_order_relaxed) == 0) {
        atomic_store_explicit(&keys[i], 0, memory_order_release);
        for (size_t n = 0; n < PROBE; n++) {
            i = (i - 1) & (SET_SIZE - 1);
            if (atomic_load_explicit(&keys[i], memory_order_relaxed) != TOMB)
                break;
            atomic_store_explicit(&keys[i], 0, memory_order_release);
        }
    } else {
        atomic_store_explicit(&keys[i], TOMB, memory_order_release);
    }
    filter_add(p, -1);
    return 1;
}
