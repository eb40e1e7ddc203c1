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
 *
 * The table starts small (4096 slots, 96 KiB) and is rebuilt when half its
 * slots are used (live keys or tombstones): twice the size when more than a
 * quarter are live, else at the same size (which clears the tombstones).
 * It used to be one fixed table of 2^20 slots in two arrays (24 MiB of
 * address space): each sample landed on a random page of both, so the
 * first ~6,000 samples of a process each paid two page faults (on bench/cost
 * that was most of the sampler's cost) and the resident set grew to 24 MiB.
 * Now a slot keeps key and value together (one cache line, one page), and
 * the table is dense.
 *
 * Rebuilding copies the live keys into a new table and publishes it. The old
 * one is unmapped once no reader can be in it: readers (only frees whose
 * filter bit is set, so rarely) announce themselves in one of two counters
 * chosen by the epoch, and check the epoch did not move meanwhile; the
 * rebuilder flips the epoch after publishing and waits for the old epoch's
 * counter to drain (all seq_cst: a reader that counted itself under the
 * new epoch loads the table after the flip, hence the new table). A
 * reader in the old table is safe meanwhile: it holds every key inserted
 * before the new table was published, and a key inserted later was
 * inserted after it, so a reader that can see that key (it is freeing it)
 * sees the new table. Removal works on the current table under the lock.
 * Everything comes from mmap, never malloc, and is never freed: a sampled
 * pointer may be freed after introspect_stop(). */
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "sampling/heap/internal.h"
#include "introspect.h"

#define MIN_BITS 12
#define MAX_BITS 21
#define PROBE 64
#define TOMB ((uintptr_t)1)

struct slot {
    _Atomic(uintptr_t) key;
    struct ix_heap_bucket *bucket;
    size_t size;
};

struct table {
    size_t mask;
    unsigned shift; /* 64 - log2(slots): the hash's top bits pick the home slot */
    size_t used; /* live keys + tombstones (under the lock) */
    size_t live; /* live keys (under the lock) */
    struct slot slots[];
};

/* NULL (product 0: bit 0 of word 0) is pinned from the start, so free's fast
 * path needs no NULL test: free(NULL) takes the filter's slow path. Its
 * count is set by ix_addrset_init, before any sample can be removed (so
 * `counts` stays in .bss: 128 KiB the library file does not carry). */
_Alignas(64) uint64_t ix_heap_filter[(1u << IX_HEAP_FILTER_BITS) / 64] = {1};
static uint32_t counts[1u << IX_HEAP_FILTER_BITS];
static _Atomic(struct table *) g_table;
static atomic_uint g_epoch;
static atomic_long g_readers[2];

static struct table *table_new(unsigned bits)
{
    size_t n = (size_t)1 << bits;
    void *m = mmap(NULL, sizeof(struct table) + n * sizeof(struct slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct table *t = m;
    t->mask = n - 1;
    t->shift = 64 - bits;
    return t;
}

static size_t home(const void *p, const struct table *t)
{
    return (size_t)(ix_heap_hash(p) >> t->shift);
}

int ix_addrset_init(void)
{
    if (atomic_load(&g_table))
        return 0;
    if (!counts[0])
        ix_addrset_pin(NULL);
    struct table *t = table_new(MIN_BITS);
    if (!t)
        return INTROSPECT_ENOMEM;
    atomic_store_explicit(&g_table, t, memory_order_release);
    return 0;
}

/* Under the sampler lock: count p in or out of its filter bit. */
static void filter_add(const void *p, int delta)
{
    struct ix_heap_filter_pos f = ix_heap_filter_pos(p);
    uint64_t h = f.word * 64 + f.bit;
    counts[h] += (uint32_t)delta;
    uint64_t bit = 1ULL << f.bit, w = ix_heap_filter[f.word];
    w = counts[h] ? w | bit : w & ~bit;
    __atomic_store_n(&ix_heap_filter[f.word], w, __ATOMIC_RELEASE);
}

void ix_addrset_pin(const void *p)
{
    struct ix_heap_filter_pos f = ix_heap_filter_pos(p);
    __atomic_fetch_add(&counts[f.word * 64 + f.bit], 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&ix_heap_filter[f.word], 1ULL << f.bit, __ATOMIC_RELEASE);
}

/* Place p in t (no filter change); 0, or INTROSPECT_ELIMIT when its probe run
 * is full. */
static int place(struct table *t, uintptr_t p, struct ix_heap_bucket *b, size_t size)
{
    size_t h = home((const void *)p, t);
    for (size_t i = 0; i < PROBE; i++) {
        struct slot *sl = &t->slots[(h + i) & t->mask];
        uintptr_t k = atomic_load_explicit(&sl->key, memory_order_relaxed);
        if (k == 0 || k == TOMB) {
            sl->bucket = b;
            sl->size = size;
            if (k == 0)
                t->used++;
            t->live++;
            atomic_store_explicit(&sl->key, p, memory_order_release);
            return 0;
        }
    }
    return INTROSPECT_ELIMIT;
}

static size_t table_bytes(const struct table *t)
{
    return sizeof(struct table) + (t->mask + 1) * sizeof(struct slot);
}

/* Under the lock, after a new table was published: wait until no reader can
 * still be in old, then unmap it. */
static void retire(struct table *old)
{
    unsigned e = atomic_fetch_add(&g_epoch, 1);
    while (atomic_load(&g_readers[e & 1]) != 0)
        sched_yield();
    munmap(old, table_bytes(old));
}

/* Under the lock: copy t's live keys into a new table (twice the size when
 * more than a quarter of t is live), publish it, retire t. Returns the new
 * table, or NULL (t stays current). */
static struct table *grow(struct table *t)
{
    unsigned bits = (unsigned)__builtin_ctzll((unsigned long long)t->mask + 1);
    if ((t->live + 1) * 4 > t->mask + 1)
        bits++;
    for (; bits <= MAX_BITS; bits++) {
        struct table *n = table_new(bits);
        if (!n)
            return NULL;
        int ok = 1;
        for (size_t i = 0; i <= t->mask && ok; i++) {
            uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
            if (k != 0 && k != TOMB)
                ok = place(n, k, t->slots[i].bucket, t->slots[i].size) == 0;
        }
        if (ok) {
            atomic_store(&g_table, n);
            retire(t);
            return n;
        }
        munmap(n, table_bytes(n)); /* never published */
    }
    return NULL;
}

int ix_addrset_insert(void *p, struct ix_heap_bucket *b, size_t size)
{
    struct table *t = atomic_load_explicit(&g_table, memory_order_relaxed);
    if (!t)
        return INTROSPECT_ENOTSTARTED;
    if (t->used + 1 > (t->mask + 1) / 2) {
        struct table *n = grow(t);
        if (n)
            t = n;
    }
    if (place(t, (uintptr_t)p, b, size)) {
        struct table *n = grow(t);
        if (!n || place(n, (uintptr_t)p, b, size))
            return INTROSPECT_ENOMEM;
    }
    filter_add(p, 1);
    return 0;
}

/* p's slot index, or -1 (a value: not in the set). */
static long find(const struct table *t, const void *p)
{
    if (!t)
        return -1;
    size_t h = home(p, t);
    for (size_t i = 0; i < PROBE; i++) {
        size_t s = (h + i) & t->mask;
        uintptr_t k = atomic_load_explicit(&t->slots[s].key, memory_order_acquire);
        if (k == (uintptr_t)p)
            return (long)s;
        if (k == 0)
            return -1;
    }
    return -1;
}

int ix_addrset_contains(const void *p)
{
    /* Counted under an epoch that was still current after counting: the
     * rebuild that flips it waits for us, and the next one cannot start
     * before this one is done (both under the sampler lock). */
    unsigned e;
    for (;;) {
        e = atomic_load(&g_epoch);
        atomic_fetch_add(&g_readers[e & 1], 1);
        if (atomic_load(&g_epoch) == e)
            break;
        atomic_fetch_sub(&g_readers[e & 1], 1);
    }
    int in = find(atomic_load(&g_table), p) >= 0;
    atomic_fetch_sub(&g_readers[e & 1], 1);
    return in;
}

void ix_addrset_forked(void)
{
    /* Readers on threads that did not survive the fork never leave. */
    atomic_store(&g_readers[0], 0);
    atomic_store(&g_readers[1], 0);
}

int ix_addrset_remove(const void *p, struct ix_heap_bucket **b, size_t *size)
{
    struct table *t = atomic_load_explicit(&g_table, memory_order_relaxed);
    long s = find(t, p);
    if (s < 0)
        return 0;
    *b = t->slots[s].bucket;
    *size = t->slots[s].size;
    t->live--;
    /* A tombstone followed by an empty slot ends no live chain: clear it and
     * the tombstones before it, so chains do not fill up with them. */
    size_t i = (size_t)s;
    if (atomic_load_explicit(&t->slots[(i + 1) & t->mask].key, memory_order_relaxed) == 0) {
        atomic_store_explicit(&t->slots[i].key, 0, memory_order_release);
        t->used--;
        for (size_t n = 0; n < PROBE; n++) {
            i = (i - 1) & t->mask;
            if (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) != TOMB)
                break;
            atomic_store_explicit(&t->slots[i].key, 0, memory_order_release);
            t->used--;
        }
    } else {
        atomic_store_explicit(&t->slots[i].key, TOMB, memory_order_release);
    }
    filter_add(p, -1);
    return 1;
}
