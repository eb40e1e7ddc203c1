#include "sampling/cpu/sample_ring.h"

#include <stddef.h>
#include <sys/mman.h>

#include "introspect.h"

/* How many records a producer tries after its claimed index before giving up. */
#define CLAIM_TRIES 8

int ix_cpu_ring_init(struct ix_cpu_ring *r, uint32_t n)
{
    size_t bytes = (size_t)n * (sizeof *r->recs + sizeof *r->states);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return INTROSPECT_ENOMEM;
    r->recs = p; /* zero-filled: every record free */
    r->states = (_Atomic uint32_t *)(r->recs + n);
    r->n = n;
    atomic_store(&r->next, 0);
    atomic_store(&r->drops, 0);
    atomic_store(&r->pending, 0);
    return 0;
}

void ix_cpu_ring_free(struct ix_cpu_ring *r)
{
    if (r->recs)
        munmap(r->recs, (size_t)r->n * (sizeof *r->recs + sizeof *r->states));
    r->recs = NULL;
    r->n = 0;
}

struct ix_cpu_rec *ix_cpu_ring_claim(struct ix_cpu_ring *r)
{
    uint32_t start = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
    for (uint32_t i = 0; i < CLAIM_TRIES; i++) {
        uint32_t k = (start + i) % r->n, expect = 0;
        if (atomic_compare_exchange_strong_explicit(&r->states[k], &expect, 1,
                                                    memory_order_acquire, memory_order_relaxed))
            return &r->recs[k];
    }
    atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed);
    return NULL;
}

void ix_cpu_ring_publish(struct ix_cpu_ring *r, struct ix_cpu_rec *rec)
{
    atomic_store_explicit(&r->states[rec - r->recs], 2, memory_order_release);
    atomic_fetch_add_explicit(&r->pending, 1, memory_order_release);
}

uint32_t ix_cpu_ring_drain(struct ix_cpu_ring *r, void (*fn)(const struct ix_cpu_rec *, void *),
                           void *arg)
{
    uint32_t got = 0;
    if (atomic_load_explicit(&r->pending, memory_order_acquire) == 0)
        return 0;
    for (uint32_t i = 0; i < r->n; i++) {
        /* An acquire load per slot, not a relaxed load and a fence: the same
         * ordering (a plain load on x86), and ThreadSanitizer, which does not
         * model fences, then sees a record published during this drain as
         * written before it is read (it reported a race in trace tests). */
        if (atomic_load_explicit(&r->states[i], memory_order_acquire) != 2)
            continue;
        fn(&r->recs[i], arg);
        atomic_store_explicit(&r->states[i], 0, memory_order_release);
        got++;
    }
    atomic_fetch_sub_explicit(&r->pending, got, memory_order_release);
    return got;
}
