/* The heap sampler: per-thread countdowns, the registry of threads (for
 * exact counts), stack buckets, and the slow path that records a sample.
 *
 * Sampling: each thread counts down the bytes to its next sample point,
 * drawn from an exponential distribution of mean `rate` (a Poisson process
 * over allocated bytes, as Go, tcmalloc and jemalloc do). An allocation of
 * size s is then sampled with probability 1 - exp(-s/rate), which is what
 * ix_heap_scale undoes. rate 1 samples every allocation.
 *
 * Locking: one mutex covers buckets, the address set's writers and the
 * registry. It is taken only for sampled allocations, frees of sampled
 * pointers, thread start/exit and readers. While a thread is inside the
 * sampler its TLS guard is set, so any allocation it makes forwards
 * unsampled and can never come back for the lock.
 *
 * The module's own allocations (host/threads.h) are never the host's: a
 * module thread's first allocation marks its countdown as never expiring, so
 * it is neither sampled nor counted (it never joins the registry); on a
 * host thread running module code, a sample point that falls in a module
 * allocation is discarded and a fresh one drawn (the process is memoryless,
 * so the host's bytes are still sampled at exactly `rate`).
 *
 * Every thread's countdown starts from its own draw (util/random.h's seed:
 * short-lived threads that reuse one stack and TLS address still draw
 * independently). */
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "host/threads.h"
#include "sampling/heap/heap.h"
#include "introspect.h"
#include "sampling/heap/internal.h"
#include "sampling/heap/interpose.h"
#include "sampling/heap/redirect.h"
#include "stack/unwind.h"
#include "util/arena.h"
#include "labels/labels.h"
#include "util/hash.h"
#include "util/random.h"

__thread struct ix_heap_tls ix_heap_tls IX_TLS;

/* When off, look at the rate again every 64 KiB: a thread notices a start
 * quickly (what it allocates before that is not sampled) and the slow path
 * still runs only once per ~64 KiB allocated. */
#define OFF_RECHECK (1 << 16)
/* The bucket index starts at 4096 heads (32 KiB) and doubles while the
 * chains average more than two buckets: a fixed 2^16 heads were 512 KiB
 * touched page by page by the first few thousand buckets (~120 page faults
 * on bench/cost's churn, bench/README.md "Cost", fifth pass). */
#define INDEX_BITS_MIN 12
#define INDEX_BITS_MAX 20

struct ix_heap_bucket {
    struct ix_heap_bucket *next, *all;
    uint64_t hash;
    uint64_t allocs, alloc_bytes, frees, free_bytes;
    size_t size; /* block size: buckets are per (stack, size, labels), as Go's */
    uint32_t labels; /* the allocating thread's label set (labels/labels.h) */
    int npcs;
    uintptr_t pcs[];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong g_rate;
static atomic_llong g_sample_rate; /* the rate the recorded samples were taken at */
static atomic_uint g_gen = 1;
static atomic_int g_aside; /* sampling off and the interposer stood aside: no exact counts */
static enum ix_heap_mode g_mode = IX_HEAP_MODE_UNSET;
static int g_key_made;
static pthread_key_t g_key;

/* Registry: live threads' TLS blocks, plus the counts of threads gone. */
static struct ix_heap_tls *g_threads;
static uint64_t g_dead_mallocs, g_dead_frees, g_dead_bytes;

/* Buckets: chained hash index, list of all (newest first), bump arena. */
static struct ix_heap_bucket **g_index;
static unsigned g_index_bits;
static struct ix_heap_bucket *g_all;
static size_t g_nbuckets;
static struct ix_perm_arena g_arena = IX_PERM_ARENA_INIT; /* mmap: we are inside malloc */
static uint64_t g_dropped;

/* Hook mode: the allocator's text, skipped at the top of captured stacks. */
static uintptr_t g_alloc_lo, g_alloc_hi;

/* ---- a thread's countdown and the bytes charged to it ---- */

/* Only t's own thread, in the slow path: fold what the old draw was charged
 * into bytes_base and start the new one. Readers retry while seq is odd or
 * moved. No fences (ThreadSanitizer has none): the stores after the odd seq
 * are releases, so a reader that sees one of them sees the odd seq after. */
IX_HEAP_TEXT static void set_countdown(struct ix_heap_tls *t, int64_t v)
{
    /* Odd from a known value, not +1: a set_countdown left half done (a
     * signal handler that longjmp'd out of malloc) must not flip the parity
     * for good, or every reader would wait forever. */
    uint32_t odd = t->seq | 1;
    __atomic_store_n(&t->seq, odd, __ATOMIC_RELAXED);
    uint64_t charged = (uint64_t)t->drawn - (uint64_t)t->countdown;
    __atomic_store_n(&t->bytes_base, t->bytes_base + charged, __ATOMIC_RELEASE);
    __atomic_store_n(&t->drawn, v, __ATOMIC_RELEASE);
    __atomic_store_n(&t->countdown, v, __ATOMIC_RELEASE);
    __atomic_store_n(&t->seq, odd + 1, __ATOMIC_RELEASE);
}

/* The bytes t's allocations requested (its exact TotalAlloc), read once;
 * *stable: whether no set_countdown ran meanwhile. */
static uint64_t read_total(struct ix_heap_tls *t, int *stable)
{
    uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
    uint64_t base = __atomic_load_n(&t->bytes_base, __ATOMIC_ACQUIRE);
    int64_t drawn = __atomic_load_n(&t->drawn, __ATOMIC_ACQUIRE);
    int64_t left = __atomic_load_n(&t->countdown, __ATOMIC_ACQUIRE);
    *stable = !(seq & 1) && __atomic_load_n(&t->seq, __ATOMIC_RELAXED) == seq;
    return base + ((uint64_t)drawn - (uint64_t)left);
}

/* Any thread whose owner is alive: retry until stable. */
static uint64_t total_bytes(struct ix_heap_tls *t)
{
    for (int tries = 0;; tries++) {
        int stable;
        uint64_t v = read_total(t, &stable);
        if (stable)
            return v;
        if (tries > 16)
            sched_yield(); /* the owner was preempted inside set_countdown */
    }
}

/* ---- thread registry ---- */

static void on_thread_exit(void *arg)
{
    struct ix_heap_tls *t = arg;
    pthread_mutex_lock(&g_lock);
    if (t->state == IX_TLS_LIVE) {
        g_dead_mallocs += t->mallocs;
        g_dead_frees += t->frees;
        int stable; /* its own: nothing else writes it (odd: left half done) */
        g_dead_bytes += read_total(t, &stable);
        if (t->prev)
            t->prev->next = t->next;
        else
            g_threads = t->next;
        if (t->next)
            t->next->prev = t->prev;
    }
    t->state = IX_TLS_DEAD;
    set_countdown(t, INT64_MAX / 2);
    pthread_mutex_unlock(&g_lock);
}

/* Under the guard. Returns 0 when the thread is (now) registered,
 * INTROSPECT_ENOTSTARTED before the first start. */
static int register_thread(struct ix_heap_tls *t)
{
    if (!g_key_made)
        return INTROSPECT_ENOTSTARTED; /* before the first start: counted, registered later */
    pthread_mutex_lock(&g_lock);
    t->next = g_threads;
    t->prev = NULL;
    if (g_threads)
        g_threads->prev = t;
    g_threads = t;
    t->state = IX_TLS_LIVE;
    t->rng = ix_rand_seed(t);
    pthread_mutex_unlock(&g_lock);
    ix_heap_unwind_thread(t);
    pthread_setspecific(g_key, t);
    return 0;
}

static void atfork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&g_lock); }

/* Only the forking thread survives: fold the others' counts away. */
static void atfork_child(void)
{
    struct ix_heap_tls *self = &ix_heap_tls;
    for (struct ix_heap_tls *t = g_threads; t; t = t->next)
        if (t != self) {
            g_dead_mallocs += t->mallocs;
            g_dead_frees += t->frees;
            /* Its thread is gone: a seq it left odd (forked inside
             * set_countdown) never moves. As read: one draw off at worst. */
            int stable;
            g_dead_bytes += read_total(t, &stable);
        }
    g_threads = NULL;
    if (self->state == IX_TLS_LIVE) {
        self->next = self->prev = NULL;
        g_threads = self;
    }
    ix_addrset_forked();
    pthread_mutex_init(&g_lock, NULL);
}

/* ---- sampling decision ---- */

static int64_t next_countdown(struct ix_heap_tls *t, int64_t rate)
{
    if (rate <= 0)
        return OFF_RECHECK;
    if (rate == 1)
        return -1; /* every allocation */
    double u = ix_rand_unit(&t->rng); /* (0, 1] */
    double d = -log(u) * (double)rate;
    return d > 4e18 ? INT64_MAX / 2 : (int64_t)d;
}

/* ---- buckets (under g_lock) ---- */

static uint64_t stack_hash(const uintptr_t *pcs, int n)
{
    return ix_hash_fold(ix_hash_pcs(ix_hash_u64(IX_HASH_INIT, (uint64_t)n), pcs, n));
}

/* The heap's own stack table, not stack/stack_table.h: it runs inside malloc
 * (so it allocates from mmap, never malloc), its buckets carry four counters
 * updated on the free path, and it grows without a cap until mmap fails.
 * One bucket per (stack, block size), as Go's runtime: each bucket's
 * unsampling then uses its exact block size, and its samples carry it as
 * the numeric "bytes" label that `pprof -tagfocus=bytes=...` selects on. */
static struct ix_heap_bucket **map_index(unsigned bits)
{
    void *m = mmap(NULL, sizeof *g_index << bits, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* Under g_lock. A failed map keeps the old index: longer chains, still right. */
static void grow_index(void)
{
    if (g_index_bits >= INDEX_BITS_MAX || g_nbuckets <= (size_t)2 << g_index_bits)
        return;
    unsigned bits = g_index_bits + 1;
    struct ix_heap_bucket **index = map_index(bits);
    if (!index)
        return;
    for (struct ix_heap_bucket *b = g_all; b; b = b->all) {
        struct ix_heap_bucket **head = &index[b->hash >> (64 - bits)];
        b->next = *head;
        *head = b;
    }
    munmap(g_index, sizeof *g_index << g_index_bits);
    g_index = index;
    g_index_bits = bits;
}

static struct ix_heap_bucket *intern(const uintptr_t *pcs, int n, size_t size, uint32_t labels)
{
    uint64_t h = stack_hash(pcs, n) ^ ((uint64_t)size * 0x9E3779B97F4A7C15ULL) ^
                 ((uint64_t)labels * 0xC2B2AE3D27D4EB4FULL);
    struct ix_heap_bucket **head = &g_index[h >> (64 - g_index_bits)];
    for (struct ix_heap_bucket *b = *head; b; b = b->next)
        if (b->hash == h && b->size == size && b->labels == labels && b->npcs == n &&
            !memcmp(b->pcs, pcs, (size_t)n * sizeof *pcs))
            return b;
    struct ix_heap_bucket *b = ix_perm_alloc(&g_arena, sizeof *b + (size_t)n * sizeof *pcs);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->hash = h;
    b->size = size;
    b->labels = labels;
    b->npcs = n;
    memcpy(b->pcs, pcs, (size_t)n * sizeof *pcs);
    b->next = *head;
    *head = b;
    b->all = g_all;
    g_all = b;
    g_nbuckets++;
    grow_index();
    return b;
}

/* ---- recording ---- */

/* Drop the frames of the interposer and sampler, and in hook mode the
 * allocator's own frames, so the leaf is the caller of malloc. */
IX_HEAP_TEXT static int first_user_frame(const uintptr_t *pcs, int n)
{
    int i = 0;
    while (i < n && ix_heap_in_text(pcs[i] - 1))
        i++;
    if (g_alloc_hi) {
        int j = i;
        while (j < n && pcs[j] - 1 >= g_alloc_lo && pcs[j] - 1 < g_alloc_hi)
            j++;
        if (j < n)
            i = j;
    }
    return i < n ? i : 0;
}

IX_HEAP_TEXT __attribute__((noinline)) static void record_alloc(void *p, size_t n)
{
    uintptr_t pcs[IX_HEAP_MAX_DEPTH + 16];
    int np = ix_heap_unwind(&ix_heap_tls, pcs, IX_HEAP_MAX_DEPTH + 16);
    int first = first_user_frame(pcs, np);
    int depth = np - first > IX_HEAP_MAX_DEPTH ? IX_HEAP_MAX_DEPTH : np - first;
    uint32_t labels = ix_labels_current(); /* read before the lock: a TLS word */
    pthread_mutex_lock(&g_lock);
    struct ix_heap_bucket *b = intern(pcs + first, depth, n, labels);
    if (!b) {
        g_dropped++;
    } else {
        b->allocs++;
        b->alloc_bytes += n;
        if (ix_addrset_insert(p, b, n)) { /* no room: counts as allocated and freed */
            b->frees++;
            b->free_bytes += n;
            g_dropped++;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

IX_HEAP_TEXT __attribute__((noinline)) void ix_heap_slow_alloc(void *p, size_t n)
{
    struct ix_heap_tls *t = &ix_heap_tls;
    if (t->guard) {
        /* Excluded work (the module's own, or the sampler's) crossed a sample
         * point: draw afresh. Left negative, the countdown would make the
         * thread's next allocation outside the exclusion a certain sample,
         * biasing the profile toward whatever follows module work. */
        if (t->state == IX_TLS_LIVE)
            set_countdown(t, next_countdown(t, atomic_load_explicit(&g_rate, memory_order_relaxed)));
        return;
    }
    t->guard++;
    if (ix_module_thread()) { /* the module's thread: never sampled, never counted */
        set_countdown(t, INT64_MAX / 2);
        goto out;
    }
    if (t->state == IX_TLS_NEW && register_thread(t)) {
        set_countdown(t, OFF_RECHECK);
        goto out;
    }
    if (t->state == IX_TLS_DEAD) {
        set_countdown(t, INT64_MAX / 2);
        goto out;
    }
    unsigned gen = atomic_load_explicit(&g_gen, memory_order_relaxed);
    int64_t rate = atomic_load_explicit(&g_rate, memory_order_relaxed);
    if (t->gen != gen) { /* first allocation, or the rate changed: a fresh draw */
        t->gen = gen; /* the sample point falls in this allocation with P = 1 - exp(-n/rate) */
        set_countdown(t, next_countdown(t, rate));
        if (rate <= 0 || !ix_heap_charge(t, n))
            goto out;
    }
    if (rate > 0 && !ix_in_module()) /* a host thread's module work is not sampled */
        record_alloc(p, n);
    set_countdown(t, next_countdown(t, rate));
out:
    t->guard--;
}

IX_HEAP_TEXT int ix_heap_sampled_free(void *p)
{
    if (!ix_addrset_contains(p))
        return 0;
    struct ix_heap_bucket *b;
    size_t size;
    pthread_mutex_lock(&g_lock);
    int found = ix_addrset_remove(p, &b, &size);
    if (found) {
        b->frees++;
        b->free_bytes += size;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

/* ---- tcmalloc (gperftools) hooks, found at run time ---- */

typedef void (*new_hook_fn)(const void *, size_t);
typedef void (*delete_hook_fn)(const void *);

IX_HEAP_TEXT static void hook_new(const void *p, size_t n)
{
    struct ix_heap_tls *t = &ix_heap_tls;
    if (!p)
        return;
    ix_heap_count(&t->mallocs);
    if (IX_UNLIKELY(ix_heap_charge(t, n)))
        ix_heap_slow_alloc((void *)p, n);
}

IX_HEAP_TEXT static void hook_delete(const void *p)
{
    if (!p)
        return;
    ix_heap_count(&ix_heap_tls.frees);
    if (IX_UNLIKELY(ix_heap_maybe_sampled(p)))
        ix_heap_sampled_free((void *)p);
}

struct range_query {
    uintptr_t base, lo, hi;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct range_query *q = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    if (q->base >= lo && q->base < hi) {
        q->lo = lo;
        q->hi = hi;
        return 1;
    }
    return 0;
}

/* tcmalloc's MallocHook API: 0, or INTROSPECT_ESYS when it is missing or
 * refuses a hook. */
static int install_hooks(void)
{
    int (*add_new)(new_hook_fn) = (int (*)(new_hook_fn))dlsym(RTLD_DEFAULT, "MallocHook_AddNewHook");
    int (*add_del)(delete_hook_fn) =
        (int (*)(delete_hook_fn))dlsym(RTLD_DEFAULT, "MallocHook_AddDeleteHook");
    if (!add_new || !add_del)
        return INTROSPECT_ESYS;
    struct range_query q = {(uintptr_t)add_new, 0, 0};
    dl_iterate_phdr(find_object, &q);
    g_alloc_lo = q.lo;
    g_alloc_hi = q.hi;
    if (!add_new(hook_new))
        return INTROSPECT_ESYS;
    if (!add_del(hook_delete))
        return INTROSPECT_ESYS; /* the new hook stays: samples are counted, never freed */
    return 0;
}

/* ---- module ---- */

/* Valgrind redirects malloc in every object, ours included, while dlsym
 * still names ours: check that a malloc call really arrives here. */
static int malloc_reaches_us(void)
{
    void *(*volatile m)(size_t) = malloc;
    uint64_t before = ix_heap_tls.mallocs;
    void *p = m(1);
    int reached = ix_heap_tls.mallocs != before;
    free(p);
    return reached;
}

static int init_once(const struct ix_config *cfg, char *why, size_t whylen)
{
    if (g_mode != IX_HEAP_MODE_UNSET)
        return 0;
    if (!IX_HEAP_INTERPOSE) {
        g_mode = IX_HEAP_MODE_SANITIZER;
        return 0;
    }
    g_index = map_index(INDEX_BITS_MIN);
    g_index_bits = INDEX_BITS_MIN;
    if (!g_index || ix_addrset_init()) {
        g_index = NULL;
        snprintf(why, whylen, "heap sampler: cannot map its tables");
        return INTROSPECT_ENOMEM;
    }
    ix_heap_tls.guard++; /* pthread_atfork and friends may allocate */
    pthread_key_create(&g_key, on_thread_exit);
    ix_heap_unwind_init();
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    if (ix_heap_interposing())
        g_mode = malloc_reaches_us() ? IX_HEAP_MODE_INTERPOSE : IX_HEAP_MODE_BYPASSED;
    else if (!cfg->heap_no_redirect && ix_heap_redirect() == 0 && malloc_reaches_us())
        g_mode = IX_HEAP_MODE_REDIRECT; /* sampling/heap/redirect.c */
    else if (install_hooks() == 0)
        g_mode = IX_HEAP_MODE_HOOKS;
    else
        g_mode = IX_HEAP_MODE_NONE;
    g_key_made = 1;
    ix_heap_tls.guard--;
    return 0;
}

/* Sampling off: the process's malloc calls skip the interposer (GOT slots
 * pointed at the allocator, sampling/heap/redirect.c), and the exact counts
 * stop. On: slots back to us before the rate is published, so the first
 * samples see every caller. */
static void stand_aside_or_step_in(unsigned long rate)
{
    if (rate == 0 && !g_aside) {
        pthread_mutex_lock(&g_lock);
        int keep_free = ix_heap_boot_blocks() || g_nbuckets > 0; /* a live block needs us */
        pthread_mutex_unlock(&g_lock);
        ix_heap_tls.guard++; /* pthread_atfork (once) may allocate: not sampled */
        g_aside = ix_heap_stand_aside(keep_free) >= 0;
        ix_heap_tls.guard--;
    } else if (rate != 0 && g_aside) {
        ix_heap_step_in();
        g_aside = 0;
    }
}

int ix_heap_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    int rc = init_once(cfg, why, whylen);
    if (rc)
        return rc;
    ix_heap_unwind_dwarf = cfg->heap_unwind_dwarf;
    /* The starting host thread registers now, not at its first sample
     * check in the middle of its own work: registering reads its stack
     * bounds (pthread_getattr_np reads /proc/self/maps through stdio), and
     * those allocations landed in the host's arena mid-run, which moved
     * glibc's heap trimming (issue 22: +300 page faults on bench/cost's
     * churn). Loading libmicrohttpd at the start used to do this by chance. */
    if (ix_heap_tls.state == IX_TLS_NEW && !ix_module_thread()) {
        ix_heap_tls.guard++;
        register_thread(&ix_heap_tls);
        ix_heap_tls.guard--;
    }
    if (g_mode == IX_HEAP_MODE_INTERPOSE || g_mode == IX_HEAP_MODE_REDIRECT)
        stand_aside_or_step_in(cfg->heap_rate);
    if (g_mode == IX_HEAP_MODE_INTERPOSE || g_mode == IX_HEAP_MODE_REDIRECT ||
        g_mode == IX_HEAP_MODE_HOOKS) {
        atomic_store(&g_rate, (long long)cfg->heap_rate);
        if (cfg->heap_rate)
            atomic_store(&g_sample_rate, (long long)cfg->heap_rate);
        atomic_fetch_add(&g_gen, 1);
    }
    return 0;
}

void ix_heap_stop(void)
{
    /* Sampled pointers freed later must still be recognised: the tables and
     * hooks stay; only new samples stop. */
    atomic_store(&g_rate, 0);
    atomic_fetch_add(&g_gen, 1);
}

void ix_heap_exclude_begin(void) { ix_module_enter(NULL); }
void ix_heap_exclude_end(void) { ix_module_leave(); }

enum ix_heap_mode ix_heap_mode(void) { return g_mode; }

int64_t ix_heap_sample_rate(void) { return atomic_load(&g_sample_rate); }

const char *ix_heap_mode_name(enum ix_heap_mode m)
{
    switch (m) {
    case IX_HEAP_MODE_INTERPOSE: return "interpose";
    case IX_HEAP_MODE_REDIRECT: return "redirect";
    case IX_HEAP_MODE_HOOKS: return "tcmalloc_hooks";
    case IX_HEAP_MODE_NONE: return "none";
    case IX_HEAP_MODE_SANITIZER: return "sanitizer";
    case IX_HEAP_MODE_BYPASSED: return "bypassed";
    default: return "not_started";
    }
}

const char *ix_heap_unavailable(void)
{
    switch (g_mode) {
    case IX_HEAP_MODE_NONE:
        return "heap profiling unavailable: the process allocator precedes libintrospect in "
               "symbol order, its malloc was not rebound to libintrospect "
               "(INTROSPECT_HEAP_REDIRECT=0, or not x86-64) and it offers no allocation hooks "
               "(put libintrospect first in LD_PRELOAD)";
    case IX_HEAP_MODE_SANITIZER:
        return "heap profiling unavailable: sanitizer build (the sanitizer owns malloc)";
    case IX_HEAP_MODE_BYPASSED:
        return "heap profiling unavailable: malloc is redirected past libintrospect (valgrind? "
               "use --soname-synonyms=somalloc=nouserintercepts)";
    case IX_HEAP_MODE_UNSET: return "heap profiling not started";
    default:
        return atomic_load(&g_rate) == 0 ? "heap sampling is off (INTROSPECT_HEAP_RATE=0)" : NULL;
    }
}

int ix_heap_records(struct ix_heap_record **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!g_index)
        return 0;
    pthread_mutex_lock(&g_lock);
    size_t want = g_nbuckets;
    pthread_mutex_unlock(&g_lock);
    struct ix_heap_record *r = malloc((want ? want : 1) * sizeof *r);
    if (!r)
        return INTROSPECT_ENOMEM;
    pthread_mutex_lock(&g_lock);
    struct ix_heap_bucket *b = g_all;
    for (size_t skip = g_nbuckets - want; skip--; ) /* newer than our count */
        b = b->all;
    for (size_t i = 0; i < want && b; i++, b = b->all)
        r[i] = (struct ix_heap_record){b->pcs, b->npcs, b->allocs, b->alloc_bytes, b->frees,
                                       b->free_bytes, b->size, b->labels};
    pthread_mutex_unlock(&g_lock);
    *out = r;
    *n = want;
    return 0;
}

int ix_heap_thread_stacks(uintptr_t (*ranges)[2], int max)
{
    int n = 0;
    pthread_mutex_lock(&g_lock);
    for (struct ix_heap_tls *t = g_threads; t && n < max; t = t->next) {
        uintptr_t lo = __atomic_load_n(&t->stack_lo, __ATOMIC_RELAXED);
        uintptr_t hi = __atomic_load_n(&t->stack_hi, __ATOMIC_RELAXED);
        if (hi > lo) {
            ranges[n][0] = lo;
            ranges[n][1] = hi;
            n++;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Go's unsampling (runtime/pprof/protomem.go scaleHeapSample): lives with
 * the sampler whose Poisson process it inverts. */
void ix_heap_scale(uint64_t count, uint64_t bytes, int64_t rate, int64_t *ocount, int64_t *obytes)
{
    if (count == 0 || bytes == 0) {
        *ocount = *obytes = 0;
        return;
    }
    if (rate <= 1) {
        *ocount = (int64_t)count;
        *obytes = (int64_t)bytes;
        return;
    }
    double avg = (double)bytes / (double)count;
    double scale = 1 / (1 - exp(-avg / (double)rate));
    *ocount = (int64_t)((double)count * scale);
    *obytes = (int64_t)((double)bytes * scale);
}

void ix_heap_get_stats(struct ix_heap_stats *s)
{
    memset(s, 0, sizeof *s);
    s->mode = g_mode;
    s->counting = !g_aside && g_mode != IX_HEAP_MODE_UNSET && g_mode != IX_HEAP_MODE_NONE &&
                  g_mode != IX_HEAP_MODE_SANITIZER && g_mode != IX_HEAP_MODE_BYPASSED;
    s->rate = atomic_load(&g_rate);
    s->sample_rate = atomic_load(&g_sample_rate);
    pthread_mutex_lock(&g_lock);
    s->mallocs = g_dead_mallocs;
    s->frees = g_dead_frees;
    s->total_bytes = g_dead_bytes;
    for (struct ix_heap_tls *t = g_threads; t; t = t->next) {
        s->mallocs += __atomic_load_n(&t->mallocs, __ATOMIC_RELAXED);
        s->frees += __atomic_load_n(&t->frees, __ATOMIC_RELAXED);
        s->total_bytes += total_bytes(t);
    }
    if (!s->counting)
        s->mallocs = s->frees = s->total_bytes = 0;
    s->dropped = g_dropped;
    s->buckets = g_nbuckets;
    s->bucket_bytes = g_arena.mapped + (g_index ? sizeof *g_index << g_index_bits : 0);
    s->unwind_fallbacks = __atomic_load_n(&ix_heap_unwind_fallbacks, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&g_lock);
    struct ix_heap_record *r;
    size_t n;
    if (ix_heap_records(&r, &n))
        return;
    int64_t rate = s->sample_rate ? s->sample_rate : 1;
    for (size_t i = 0; i < n; i++) {
        int64_t c, b;
        s->samples += r[i].allocs - r[i].frees;
        s->alloc_samples += r[i].allocs;
        ix_heap_scale(r[i].allocs, r[i].alloc_bytes, rate, &c, &b);
        s->alloc_objects += (double)c;
        s->alloc_bytes += (double)b;
        ix_heap_scale(r[i].allocs - r[i].frees, r[i].alloc_bytes - r[i].free_bytes, rate, &c, &b);
        s->inuse_objects += (double)c;
        s->inuse_bytes += (double)b;
    }
    free(r);
}
