/* The allocation entry points. This library defines malloc, free and the
 * rest, so when it precedes the allocator in symbol lookup order (it is
 * linked in, or LD_PRELOADed, before libc / libjemalloc / libtcmalloc) every
 * allocation in the process comes here first. Each call forwards to the next
 * definition (dlsym(RTLD_NEXT), resolved once), counts, and runs the
 * sampling countdown (sampling/heap/internal.h).
 *
 * Bootstrap: dlsym itself may allocate (its error buffer). Allocations made
 * while the next allocator is being resolved come from a small static arena;
 * free of such a pointer is a no-op, realloc copies out of it.
 *
 * Mixing allocators would be fatal, so only malloc, free, calloc, realloc,
 * posix_memalign and malloc_usable_size are taken from the next object, and
 * only if that is the object that defines malloc (jemalloc has no pvalloc:
 * dlsym would find glibc's, whose blocks jemalloc's free cannot take). The
 * other entry points are built on posix_memalign and realloc. */
#include "sampling/heap/internal.h"
#include "introspect.h"
#include "sampling/heap/interpose.h"

#if IX_HEAP_INTERPOSE

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define IX_EXPORT __attribute__((visibility("default")))

struct next_alloc {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    size_t (*usable)(void *);
};

/* malloc and free call through these without testing g_ready: until the
 * next allocator is resolved they point at stubs that resolve it (or serve
 * the bootstrap arena); resolve_now swaps in the real functions. */
IX_HEAP_TEXT static void *stub_malloc(size_t n);
IX_HEAP_TEXT static void stub_free(void *p);
/* On a cache line of their own: every call reads them, nothing else in .data
 * written by another thread may share their line. */
static struct __attribute__((aligned(64))) {
    void *(*malloc)(size_t);
    void (*free)(void *);
} fwd = {stub_malloc, stub_free};
#define next_malloc fwd.malloc
#define next_free fwd.free

static struct next_alloc next;
static atomic_int g_ready; /* 0 not resolved, 1 resolving, 2 ready, 3 failed */
static __thread int t_resolving IX_TLS;

/* ---- bootstrap arena ---- */
#define BOOT_SIZE (256 * 1024)
static _Alignas(64) unsigned char boot[BOOT_SIZE];
static atomic_size_t boot_used;

static int in_boot(const void *p)
{
    return (uintptr_t)p - (uintptr_t)boot < BOOT_SIZE;
}

/* Each block is preceded by its size; never reused, so it is always zeroed. */
static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t old = atomic_load(&boot_used);
    for (;;) {
        uintptr_t start = (uintptr_t)boot + old + sizeof(size_t);
        start = (start + align - 1) & ~(uintptr_t)(align - 1);
        if (n > BOOT_SIZE || start + n > (uintptr_t)boot + BOOT_SIZE) {
            errno = ENOMEM;
            return NULL;
        }
        size_t end = (size_t)(start + n - (uintptr_t)boot);
        if (atomic_compare_exchange_weak(&boot_used, &old, end)) {
            memcpy((void *)(start - sizeof(size_t)), &n, sizeof n);
            ix_addrset_pin((void *)start); /* its free takes free's slow path */
            return (void *)start;
        }
    }
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const char *)p - sizeof(size_t), sizeof n);
    return n;
}

/* ---- resolving the next allocator ---- */
IX_HEAP_TEXT static void *ix_malloc(size_t n);

static void *next_sym(void *handle, const char *name, const Dl_info *owner)
{
    void *f = dlsym(handle, name);
    Dl_info di;
    if (!f || !owner || !dladdr(f, &di) || di.dli_fbase != owner->dli_fbase)
        return NULL;
    return f;
}

/* Fills *n from the object that defines handle's malloc; 0, or INTROSPECT_ESYS
 * when that object's malloc, free, realloc or posix_memalign cannot be found. */
static int lookup_next(void *handle, struct next_alloc *n)
{
    Dl_info owner;
    void *m = dlsym(handle, "malloc");
    if (!m || m == (void *)ix_malloc || !dladdr(m, &owner))
        return INTROSPECT_ESYS;
    n->malloc = (void *(*)(size_t))m;
    n->free = (void (*)(void *))next_sym(handle, "free", &owner);
    n->calloc = (void *(*)(size_t, size_t))next_sym(handle, "calloc", &owner);
    n->realloc = (void *(*)(void *, size_t))next_sym(handle, "realloc", &owner);
    n->posix_memalign = (int (*)(void **, size_t, size_t))next_sym(handle, "posix_memalign", &owner);
    n->usable = (size_t(*)(void *))next_sym(handle, "malloc_usable_size", &owner);
    return n->free && n->realloc && n->posix_memalign ? 0 : INTROSPECT_ESYS;
}

static void publish(const struct next_alloc *n)
{
    next = *n;
    __atomic_store_n(&next_malloc, next.malloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_free, next.free, __ATOMIC_RELAXED);
}

static void resolve_now(void)
{
    struct next_alloc n;
    if (lookup_next(RTLD_NEXT, &n)) {
        atomic_store(&g_ready, 3);
        return;
    }
    publish(&n);
    atomic_store(&g_ready, 2);
}

/* Returns 1 when the next allocator is usable, 0 when the caller must use
 * the bootstrap arena (this thread is resolving, or resolution failed). */
static __attribute__((noinline, cold)) int resolve(void)
{
    int st = atomic_load(&g_ready);
    if (st == 0 && atomic_compare_exchange_strong(&g_ready, &st, 1)) {
        t_resolving = 1;
        resolve_now();
        t_resolving = 0;
        st = atomic_load(&g_ready);
    }
    while (st == 1) {
        if (t_resolving)
            return 0;
        sched_yield();
        st = atomic_load(&g_ready);
    }
    return st == 2;
}

IX_HEAP_TEXT static inline int ready(void)
{
    return IX_LIKELY(atomic_load_explicit(&g_ready, memory_order_acquire) == 2) || resolve();
}

/* ---- the common tail of every allocation ---- */
IX_HEAP_TEXT static inline void *account(void *p, size_t n)
{
    struct ix_heap_tls *t = &ix_heap_tls;
    if (IX_LIKELY(p != NULL)) {
        ix_heap_count(&t->mallocs);
        if (IX_UNLIKELY(ix_heap_charge(t, n)))
            ix_heap_slow_alloc(p, n);
    }
    return p;
}

IX_HEAP_TEXT static inline void forget(void *p)
{
    if (IX_UNLIKELY(ix_heap_maybe_sampled(p))) {
        int e = errno;
        ix_heap_sampled_free(p);
        errno = e;
    }
}

/* The hot paths. malloc counts and charges the countdown before forwarding,
 * so the call to the next allocator is a tail call (no frame of ours): a
 * request that fails is counted too (rare, and only with the allocator out
 * of memory). When the charge takes the countdown below zero, malloc_slow
 * forwards first and then offers the block to the sampler. free's one test
 * is the filter bit, which is also set (pinned) for NULL and for
 * bootstrap-arena blocks: those take free_slow. (Measured in
 * bench/README.md, "Cost": 24 + 20 instructions per malloc + free pair at
 * first, 12 + 15 in the second pass, 5 + 10 in the ninth.) */
IX_HEAP_TEXT __attribute__((noinline)) static void *malloc_slow(size_t n)
{
    void *p = __atomic_load_n(&next_malloc, __ATOMIC_RELAXED)(n);
    if (p) /* already counted and charged */
        ix_heap_slow_alloc(p, n);
    return p;
}

IX_HEAP_TEXT static void *ix_malloc(size_t n)
{
    struct ix_heap_tls *t = &ix_heap_tls;
    ix_heap_count(&t->mallocs);
    if (IX_UNLIKELY(ix_heap_charge(t, n)))
        return malloc_slow(n);
    return __atomic_load_n(&next_malloc, __ATOMIC_RELAXED)(n);
}

IX_HEAP_TEXT static void *stub_malloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 16);
    return next.malloc(n);
}

IX_HEAP_TEXT static void stub_free(void *p)
{
    if (ready()) /* p came from the next allocator (boot blocks never get here) */
        next.free(p);
}

IX_HEAP_TEXT __attribute__((noinline)) static void free_slow(void *p)
{
    if (!p || in_boot(p))
        return;
    ix_heap_count(&ix_heap_tls.frees);
    forget(p); /* keeps errno itself */
    __atomic_load_n(&next_free, __ATOMIC_RELAXED)(p);
}

IX_HEAP_TEXT static void ix_free(void *p)
{
    if (IX_UNLIKELY(ix_heap_maybe_sampled(p)))
        return free_slow(p);
    ix_heap_count(&ix_heap_tls.frees);
    /* glibc's free keeps errno (2.33+); jemalloc's and tcmalloc's touch it
     * only if munmap fails, which the kernel does not do for their ranges. */
    __atomic_load_n(&next_free, __ATOMIC_RELAXED)(p);
}

IX_HEAP_TEXT static void *ix_calloc(size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!ready())
        return boot_alloc(total, 16);
    if (!next.calloc) {
        void *p = next.malloc(total);
        if (p)
            memset(p, 0, total);
        return account(p, total);
    }
    return account(next.calloc(n, m), total);
}

IX_HEAP_TEXT static void *ix_realloc(void *p, size_t n)
{
    if (!p)
        return ix_malloc(n);
    if (in_boot(p)) {
        if (n == 0)
            return NULL;
        void *q = ix_malloc(n);
        size_t old = boot_size(p);
        if (q)
            memcpy(q, p, old < n ? old : n);
        return q;
    }
    if (!ready()) /* p came from the next allocator, so this cannot fail */
        return NULL;
    /* Forget p before the allocator can hand its address to another thread.
     * If realloc then fails, p stays allocated but unsampled (counted freed). */
    forget(p);
    void *q = next.realloc(p, n);
    struct ix_heap_tls *t = &ix_heap_tls;
    if (q || n == 0)
        ix_heap_count(&t->frees);
    return account(q, n);
}

IX_HEAP_TEXT static void *ix_reallocarray(void *p, size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return ix_realloc(p, total);
}

/* align: a power of two >= sizeof(void *). */
IX_HEAP_TEXT static void *aligned(size_t align, size_t n)
{
    if (!ready())
        return boot_alloc(n, align);
    void *p = NULL;
    int rc = next.posix_memalign(&p, align, n);
    if (rc) {
        errno = rc;
        return NULL;
    }
    return account(p, n);
}

static int pow2(size_t x) { return x && !(x & (x - 1)); }

IX_HEAP_TEXT static int ix_posix_memalign(void **out, size_t align, size_t n)
{
    if (align % sizeof(void *) || !pow2(align))
        return EINVAL;
    int e = errno;
    void *p = aligned(align, n);
    int rc = p ? 0 : errno;
    errno = e;
    if (p)
        *out = p;
    return rc;
}

/* glibc's memalign rounds a non-power-of-two alignment up. */
IX_HEAP_TEXT static void *ix_memalign(size_t align, size_t n)
{
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (!pow2(align)) {
        if (align > (SIZE_MAX >> 1) + 1) {
            errno = EINVAL;
            return NULL;
        }
        size_t a = sizeof(void *);
        while (a < align)
            a <<= 1;
        align = a;
    }
    return aligned(align, n);
}

/* C17: an unsupported (non power of two) alignment fails, as in glibc >= 2.38. */
IX_HEAP_TEXT static void *ix_aligned_alloc(size_t align, size_t n)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align < sizeof(void *) ? sizeof(void *) : align, n);
}

IX_HEAP_TEXT static void *ix_valloc(size_t n) { return aligned((size_t)sysconf(_SC_PAGESIZE), n); }

IX_HEAP_TEXT static void *ix_pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t r = n ? n : 1;
    if (r > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(page, (r + page - 1) & ~(page - 1));
}

IX_HEAP_TEXT static size_t ix_malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (in_boot(p))
        return boot_size(p);
    if (!ready() || !next.usable)
        return 0;
    return next.usable(p);
}

IX_EXPORT void *malloc(size_t n) __attribute__((alias("ix_malloc")));
IX_EXPORT void free(void *p) __attribute__((alias("ix_free")));
IX_EXPORT void *calloc(size_t n, size_t m) __attribute__((alias("ix_calloc")));
IX_EXPORT void *realloc(void *p, size_t n) __attribute__((alias("ix_realloc")));
IX_EXPORT void *reallocarray(void *p, size_t n, size_t m) __attribute__((alias("ix_reallocarray")));
IX_EXPORT int posix_memalign(void **out, size_t align, size_t n)
    __attribute__((alias("ix_posix_memalign")));
IX_EXPORT void *aligned_alloc(size_t align, size_t n) __attribute__((alias("ix_aligned_alloc")));
IX_EXPORT void *memalign(size_t align, size_t n) __attribute__((alias("ix_memalign")));
IX_EXPORT void *valloc(size_t n) __attribute__((alias("ix_valloc")));
IX_EXPORT void *pvalloc(size_t n) __attribute__((alias("ix_pvalloc")));
IX_EXPORT size_t malloc_usable_size(void *p) __attribute__((alias("ix_malloc_usable_size")));

int ix_heap_interposing(void)
{
    return dlsym(RTLD_DEFAULT, "malloc") == (void *)ix_malloc;
}

const void *ix_heap_next_malloc(void)
{
    return ready() ? (const void *)next.malloc : NULL;
}

const void *const *ix_heap_entry_points(void)
{
    static const void *const eps[] = {
        (const void *)ix_malloc,         (const void *)ix_free,
        (const void *)ix_calloc,         (const void *)ix_realloc,
        (const void *)ix_reallocarray,   (const void *)ix_posix_memalign,
        (const void *)ix_aligned_alloc,  (const void *)ix_memalign,
        (const void *)ix_valloc,         (const void *)ix_pvalloc,
        (const void *)ix_malloc_usable_size};
    return eps;
}

void ix_heap_next_entry_points(const void *out[11])
{
    memset(out, 0, 11 * sizeof *out);
    if (!ready())
        return;
    out[0] = (const void *)next.malloc;
    out[1] = (const void *)next.free;
    out[2] = (const void *)next.calloc;
    out[3] = (const void *)next.realloc;
    out[5] = (const void *)next.posix_memalign;
    out[10] = (const void *)next.usable;
}

int ix_heap_boot_blocks(void) { return atomic_load(&boot_used) != 0; }

/* Called at the module's start, before any slot points at us: whatever our
 * malloc served until now (nothing but a direct call) came from the next
 * allocator, which keeps serving frees of it only if it is the same one; the
 * bootstrap arena is still recognised. */
int ix_heap_forward_to_default(void)
{
    struct next_alloc n;
    if (!ready() || lookup_next(RTLD_DEFAULT, &n))
        return INTROSPECT_ESYS;
    publish(&n);
    return 0;
}

#else /* sanitizer build: no interposer */

int ix_heap_interposing(void) { return 0; }
const void *ix_heap_next_malloc(void) { return NULL; }
const void *const *ix_heap_entry_points(void)
{
    static const void *const none[11];
    return none;
}
int ix_heap_forward_to_default(void) { return INTROSPECT_EINVAL; }
void ix_heap_next_entry_points(const void *out[11])
{
    for (int i = 0; i < 11; i++)
        out[i] = NULL;
}
int ix_heap_boot_blocks(void) { return 0; }

#endif
