/* Shared between the heap sampler's parts (interposer, tcmalloc hooks,
 * address set, stack buckets); nothing outside src/sampling/heap/ includes it.
 *
 * The hot path of every allocation is: forward to the real allocator, add one
 * to a thread-local count, subtract the size from a thread-local countdown.
 * Only when the countdown goes negative (on average once per heap_rate bytes)
 * does ix_heap_slow_alloc run, which may capture a stack. The hot path of
 * every free is one bit test in a 4 KiB filter (ix_heap_filter): a clear bit
 * means "no sampled pointer hashes here", so the pointer was not sampled. */
#ifndef IX_HEAP_INTERNAL_H
#define IX_HEAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
/* Sanitizers interpose malloc themselves: under them the interposer is
 * compiled out (and the heap profile reports why it is empty). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                       \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||               \
    __has_feature(memory_sanitizer)
#define IX_HEAP_INTERPOSE 0
#else
#define IX_HEAP_INTERPOSE 1
#endif

#define IX_HEAP_MAX_DEPTH 64
#define IX_HEAP_FILTER_BITS 15
#define IX_TLS __attribute__((tls_model("initial-exec")))
#define IX_LIKELY(x) __builtin_expect(!!(x), 1)
#define IX_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum { IX_TLS_NEW = 0, IX_TLS_LIVE = 1, IX_TLS_DEAD = 2 };

/* Per-thread state. countdown, mallocs and frees are written only by their
 * thread, each by one instruction (ix_heap_count, ix_heap_charge), and read
 * by others through the registry list.
 *
 * The bytes a thread requested (exact TotalAlloc) are not counted apart: they
 * are what its countdown was charged, bytes_base + (drawn - countdown). Only
 * the sampler's slow path sets the countdown (set_countdown, sampler.c), inside
 * a sequence count, so a reader sees the three words from one draw. */
struct ix_heap_tls {
    int64_t countdown; /* bytes until the next sample */
    uint64_t mallocs, frees;
    int64_t drawn;       /* the countdown's value when last set */
    uint64_t bytes_base; /* bytes charged to earlier draws */
    uint32_t seq;        /* odd while the slow path sets the countdown */
    uint32_t guard; /* > 0: inside the sampler; allocations forward unsampled */
    uint32_t state;
    uint32_t gen; /* sampler generation the countdown was drawn for */
    uint64_t rng;
    struct ix_heap_tls *next, *prev;
    uintptr_t stack_lo, stack_hi; /* this thread's stack, for frame-pointer walks */
};

extern __thread struct ix_heap_tls ix_heap_tls IX_TLS;
extern uint64_t ix_heap_filter[(1u << IX_HEAP_FILTER_BITS) / 64];

/* Fibonacci hashing (the address set's slots): the top bits of the product
 * mix every bit of p (the zero low bits of an aligned block only drop the
 * multiplier's top bits). */
static inline uint64_t ix_heap_hash(const void *p)
{
    return (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
}

/* Where p's bit is in the filter: the 128-bit product p * K gives the word
 * from the top of its low half and the bit from the bottom of its high half
 * (one mul yields both halves: free's test is 7 instructions, not 9). */
struct ix_heap_filter_pos {
    uint64_t word;
    unsigned bit;
};

static inline struct ix_heap_filter_pos ix_heap_filter_pos(const void *p)
{
    uint64_t lo, hi;
#if defined(__x86_64__)
    /* gcc 12 spends two register copies around the __int128 form. */
    __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "0"(0x9E3779B97F4A7C15ULL), "r"((uint64_t)(uintptr_t)p));
#else
    unsigned __int128 m = (unsigned __int128)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    lo = (uint64_t)m;
    hi = (uint64_t)(m >> 64);
#endif
    return (struct ix_heap_filter_pos){lo >> (64 - (IX_HEAP_FILTER_BITS - 6)), (unsigned)hi & 63};
}

/* Could p be a sampled pointer? One load, no false negatives. */
static inline int ix_heap_maybe_sampled(const void *p)
{
    struct ix_heap_filter_pos f = ix_heap_filter_pos(p);
    return (__atomic_load_n(&ix_heap_filter[f.word], __ATOMIC_RELAXED) >> f.bit) & 1;
}

/* One instruction on x86-64 (an add to memory: one 8-byte store, so a reader
 * on another thread never sees it torn); the C form, a load and a relaxed
 * store, costs three. Only the owning thread writes c. */
static inline void ix_heap_count(uint64_t *c)
{
#if defined(__x86_64__)
    __asm__("addq $1, %0" : "+m"(*c));
#else
    __atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
#endif
}

/* Charge n bytes to the countdown; 1 when it went negative (a sample point
 * may fall in this allocation). A subtract to memory and its sign flag. */
static inline int ix_heap_charge(struct ix_heap_tls *t, size_t n)
{
#if defined(__x86_64__)
    int neg;
    __asm__("subq %2, %0" : "+m"(t->countdown), "=@ccs"(neg) : "r"(n));
    return neg;
#else
    int64_t left = __atomic_load_n(&t->countdown, __ATOMIC_RELAXED) - (int64_t)n;
    __atomic_store_n(&t->countdown, left, __ATOMIC_RELAXED);
    return left < 0;
#endif
}

/* Called when the countdown went negative: p (size n) may be sampled.
 * Its stack starts at the first frame outside ix_heap_text. */
void ix_heap_slow_alloc(void *p, size_t n);
/* Called for a pointer about to be freed whose filter byte was set: if it
 * was sampled, record the free and forget it. Returns 1 when it was. */
int ix_heap_sampled_free(void *p);

/* ---- address set (sampling/heap/addrset.c): sampled pointer -> bucket, size ---- */
struct ix_heap_bucket;
/* Map the first table: 0 or INTROSPECT_ENOMEM. */
int ix_addrset_init(void);
/* Under the sampler lock. Returns 0, INTROSPECT_ENOTSTARTED before
 * ix_addrset_init, or INTROSPECT_ENOMEM when the set is full (cannot grow). */
int ix_addrset_insert(void *p, struct ix_heap_bucket *b, size_t size);
/* Lock-free: 1 when p is in the set. */
int ix_addrset_contains(const void *p);
/* Set p's filter bit for good (a bootstrap-arena block: its free must take
 * the slow path). Only while the next allocator is being resolved, before
 * any sample exists (it does not take the sampler lock). */
void ix_addrset_pin(const void *p);
/* In a forked child (under the sampler lock's reinit): reset the readers. */
void ix_addrset_forked(void);
/* Under the sampler lock: remove p; returns 1 and its value when found. */
int ix_addrset_remove(const void *p, struct ix_heap_bucket **b, size_t *size);

/* ---- stack capture for samples (sampling/heap/unwind.c) ---- */
/* Snapshot the executable segments of the loaded objects (at start). */
void ix_heap_unwind_init(void);
/* Fill t's stack bounds (at thread registration; may allocate, guarded). */
void ix_heap_unwind_thread(struct ix_heap_tls *t);
/* The caller's stack, leaf first: a validated frame-pointer walk, or
 * libgcc's DWARF unwinder when the chain does not validate. */
int ix_heap_unwind(struct ix_heap_tls *t, uintptr_t *pcs, int max);
extern uint64_t ix_heap_unwind_fallbacks; /* stacks the frame-pointer walk gave up on */
extern int ix_heap_unwind_dwarf;          /* 1: always DWARF (INTROSPECT_HEAP_UNWIND=dwarf) */

/* Interposer facts: sampling/heap/interpose.h. */

/* The interposer's entry points and the sampler's capture path live in one
 * named section, so captured stacks can drop their frames by a range check
 * (the linker defines __start_/__stop_ for it, linked or shared). */
#define IX_HEAP_TEXT __attribute__((section("ix_heap_text")))
extern const char __start_ix_heap_text[] __attribute__((visibility("hidden")));
extern const char __stop_ix_heap_text[] __attribute__((visibility("hidden")));
static inline int ix_heap_in_text(uintptr_t pc)
{
    return pc >= (uintptr_t)__start_ix_heap_text && pc <= (uintptr_t)__stop_ix_heap_text;
}

#endif
