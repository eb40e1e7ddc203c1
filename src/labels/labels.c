/* Interned label sets, the thread's current set, and its change log
 * (see labels/labels.h for the idea). */
#include "labels/labels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "introspect.h"
#include "util/arena.h"
#include "util/clock.h"
#include "util/hash.h"

/* ---- the interned table: lock-free reads, inserts under a mutex ---- */
#define TAB (IX_LABELSETS_MAX * 2)
static _Atomic(struct ix_labelset *) g_sets[IX_LABELSETS_MAX]; /* index = id; 0 unused */
static _Atomic uint32_t g_tab[TAB];                             /* ids by hash, 0 = empty */
static _Atomic uint32_t g_nsets = 1;
static _Atomic uint64_t g_refused, g_lookups, g_unknown;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT; /* make_key: the TLS key and fork handlers */
static void make_key(void);
static struct ix_perm_arena g_arena = IX_PERM_ARENA_INIT;

static uint64_t set_hash(const struct ix_labelset *s)
{
    uint64_t h = IX_HASH_INIT;
    for (int i = 0; i < s->n; i++) {
        h = ix_hash_str(h, s->keys[i]);
        h = ix_hash_u64(h, 0x3d);
        h = ix_hash_str(h, s->vals[i]);
        h = ix_hash_u64(h, 0x2c);
    }
    return ix_hash_fold(h);
}

static int set_eq(const struct ix_labelset *a, const struct ix_labelset *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->keys[i], b->keys[i]) || strcmp(a->vals[i], b->vals[i]))
            return 0;
    return 1;
}

/* Probe for s: its id, or 0 with *slot the empty slot that ends the chain. */
static uint32_t probe(const struct ix_labelset *s, uint64_t h, size_t *slot)
{
    for (size_t i = 0; i < TAB; i++) {
        size_t k = (h + i) & (TAB - 1);
        uint32_t id = atomic_load_explicit(&g_tab[k], memory_order_acquire);
        if (!id) {
            *slot = k;
            return 0;
        }
        const struct ix_labelset *e = atomic_load_explicit(&g_sets[id], memory_order_acquire);
        if (e && set_eq(e, s))
            return id;
    }
    *slot = TAB;
    return 0;
}

static uint32_t intern(const struct ix_labelset *s)
{
    if (s->n == 0)
        return 0;
    uint64_t h = set_hash(s);
    size_t slot;
    uint32_t id = probe(s, h, &slot);
    if (id)
        return id;
    pthread_once(&g_once, make_key); /* fork handlers before g_lock is first taken */
    pthread_mutex_lock(&g_lock);
    id = probe(s, h, &slot);
    uint32_t n = atomic_load(&g_nsets);
    if (!id && slot < TAB && n < IX_LABELSETS_MAX) {
        size_t bytes = sizeof(struct ix_labelset);
        for (int i = 0; i < s->n; i++)
            bytes += strlen(s->keys[i]) + strlen(s->vals[i]) + 2;
        struct ix_labelset *c = bytes <= IX_PERM_CHUNK ? ix_perm_alloc(&g_arena, bytes) : NULL;
        if (c) {
            char *p = (char *)(c + 1);
            c->n = s->n;
            for (int i = 0; i < s->n; i++) {
                size_t kl = strlen(s->keys[i]) + 1, vl = strlen(s->vals[i]) + 1;
                memcpy(p, s->keys[i], kl);
                c->keys[i] = p;
                p += kl;
                memcpy(p, s->vals[i], vl);
                c->vals[i] = p;
                p += vl;
            }
            id = n;
            atomic_store_explicit(&g_sets[id], c, memory_order_release);
            atomic_store_explicit(&g_tab[slot], id, memory_order_release);
            atomic_store(&g_nsets, n + 1);
        }
    }
    pthread_mutex_unlock(&g_lock);
    return id ? id : UINT32_MAX;
}

const struct ix_labelset *ix_labelset_get(uint32_t id)
{
    if (id == 0 || id >= IX_LABELSETS_MAX)
        return NULL;
    return atomic_load_explicit(&g_sets[id], memory_order_acquire);
}

uint32_t ix_labels_with(uint32_t base, const char *key, const char *val)
{
    if (!key || !*key)
        return base;
    struct ix_labelset s = {0};
    const struct ix_labelset *b = ix_labelset_get(base);
    int placed = val == NULL;
    for (int i = 0; b && i < b->n; i++) {
        int c = strcmp(b->keys[i], key);
        if (c == 0) {
            if (val) {
                s.keys[s.n] = key;
                s.vals[s.n++] = val;
                placed = 1;
            }
            continue;
        }
        if (c > 0 && !placed) {
            s.keys[s.n] = key;
            s.vals[s.n++] = val;
            placed = 1;
        }
        if (s.n == IX_LABELS_MAX_PAIRS)
            goto refuse;
        s.keys[s.n] = b->keys[i];
        s.vals[s.n++] = b->vals[i];
    }
    if (!placed) {
        if (s.n == IX_LABELS_MAX_PAIRS)
            goto refuse;
        s.keys[s.n] = key;
        s.vals[s.n++] = val;
    }
    uint32_t id = intern(&s);
    if (id != UINT32_MAX)
        return id;
refuse:
    atomic_fetch_add_explicit(&g_refused, 1, memory_order_relaxed);
    return base;
}

/* ---- the current set and the per-thread change log ---- */
#define LOGN 1024u /* changes a reader may lag behind: ~2 per request */
#define MAX_LOGS 4096

struct log_entry {
    _Atomic int64_t t;
    _Atomic uint32_t id;
};
struct tlog {
    _Atomic pid_t tid; /* 0: free for another thread */
    _Atomic uint64_t w; /* entries written */
    struct log_entry e[LOGN];
};

static _Atomic(struct tlog *) g_logs[MAX_LOGS];
static _Atomic uint32_t g_nlogs;
static pthread_key_t g_key;

static __thread uint32_t t_cur __attribute__((tls_model("initial-exec")));
static __thread struct tlog *t_log __attribute__((tls_model("initial-exec")));

/* A thread that exits gives its log back (a sample of it not yet read then
 * shows no labels: the reader finds no log for its tid). */
static void log_release(void *p)
{
    struct tlog *l = p;
    atomic_store_explicit(&l->tid, 0, memory_order_release);
}

/* fork: no child inherits g_lock held by a thread it does not have (its
 * next intern would hang a host thread), and in the child the one thread
 * left keeps its log under its new tid (the perf ring engine looks logs up
 * by the sample's tid) while the logs of the threads it lost are freed. */
static void fork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&g_lock); }
static void fork_child(void)
{
    pthread_mutex_unlock(&g_lock);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    uint32_t n = atomic_load_explicit(&g_nlogs, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        struct tlog *c = atomic_load_explicit(&g_logs[i], memory_order_acquire);
        if (c)
            atomic_store_explicit(&c->tid, c == t_log ? tid : 0, memory_order_release);
    }
}

static void make_key(void)
{
    pthread_key_create(&g_key, log_release);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static struct tlog *log_get(void)
{
    if (t_log)
        return t_log;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    uint32_t n = atomic_load_explicit(&g_nlogs, memory_order_acquire);
    struct tlog *l = NULL;
    for (uint32_t i = 0; i < n && !l; i++) {
        struct tlog *c = atomic_load_explicit(&g_logs[i], memory_order_acquire);
        pid_t zero = 0;
        if (c && atomic_compare_exchange_strong(&c->tid, &zero, -1))
            l = c;
    }
    if (!l) {
        void *m = mmap(NULL, sizeof(struct tlog), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        l = m;
        pthread_mutex_lock(&g_lock);
        uint32_t k = atomic_load(&g_nlogs);
        if (k < MAX_LOGS) {
            atomic_store_explicit(&g_logs[k], l, memory_order_release);
            atomic_store_explicit(&g_nlogs, k + 1, memory_order_release);
        }
        pthread_mutex_unlock(&g_lock);
        if (k >= MAX_LOGS) {
            munmap(m, sizeof(struct tlog));
            return NULL;
        }
    }
    atomic_store_explicit(&l->w, 0, memory_order_relaxed);
    atomic_store_explicit(&l->tid, tid, memory_order_release);
    pthread_once(&g_once, make_key);
    pthread_setspecific(g_key, l);
    t_log = l;
    return l;
}

uint32_t ix_labels_current(void) { return t_cur; }

void ix_labels_switch(uint32_t id, int64_t now_ns)
{
    if (id == t_cur)
        return;
    t_cur = id;
    struct tlog *l = log_get();
    if (!l)
        return;
    if (!now_ns)
        now_ns = ix_mono_ns();
    uint64_t w = atomic_load_explicit(&l->w, memory_order_relaxed);
    struct log_entry *e = &l->e[w % LOGN];
    /* Readers that see the new entry must also see w's earlier value pass
     * this slot's previous use (fence-to-fence with ix_labels_at). */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&e->t, now_ns, memory_order_relaxed);
    atomic_store_explicit(&e->id, id, memory_order_relaxed);
    atomic_store_explicit(&l->w, w + 1, memory_order_release);
}

uint32_t ix_labels_at(pid_t tid, int64_t t_ns)
{
    uint32_t n = atomic_load_explicit(&g_nlogs, memory_order_acquire);
    struct tlog *l = NULL;
    for (uint32_t i = 0; i < n; i++) {
        struct tlog *c = atomic_load_explicit(&g_logs[i], memory_order_acquire);
        if (c && atomic_load_explicit(&c->tid, memory_order_acquire) == tid) {
            l = c;
            break;
        }
    }
    if (!l)
        return 0;
    atomic_fetch_add_explicit(&g_lookups, 1, memory_order_relaxed);
    uint64_t w = atomic_load_explicit(&l->w, memory_order_acquire);
    for (uint64_t k = w; k > 0 && w - k < LOGN - 1; k--) {
        const struct log_entry *e = &l->e[(k - 1) % LOGN];
        int64_t et = atomic_load_explicit(&e->t, memory_order_relaxed);
        if (et > t_ns)
            continue;
        uint32_t id = atomic_load_explicit(&e->id, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        uint64_t w2 = atomic_load_explicit(&l->w, memory_order_relaxed);
        if (w2 - (k - 1) >= LOGN)
            break; /* the slot was reused while we read it */
        return id;
    }
    if (w < LOGN - 1)
        return 0; /* before the thread's first change */
    atomic_fetch_add_explicit(&g_unknown, 1, memory_order_relaxed);
    return IX_LABELS_UNKNOWN;
}

void ix_labels_stats(struct ix_labels_stats *s)
{
    s->sets = atomic_load(&g_nsets) - 1;
    s->refused = atomic_load(&g_refused);
    s->lookups = atomic_load(&g_lookups);
    s->unknown = atomic_load(&g_unknown);
}

/* ---- the public API: a small stack of sets per thread ---- */
#define STACK 16
static __thread uint32_t t_stack[STACK];
static __thread int t_depth;

int introspect_labels_set(const char *key, const char *value)
{
    if (!key || !*key)
        return INTROSPECT_EINVAL;
    uint32_t id = ix_labels_with(t_cur, key, value);
    if (id == t_cur && value && !(ix_labelset_get(id)))
        return INTROSPECT_ELIMIT;
    ix_labels_switch(id, 0);
    return 0;
}

int introspect_labels_push(const char *key, const char *value)
{
    if (!key || !*key || !value)
        return INTROSPECT_EINVAL;
    if (t_depth >= STACK)
        return INTROSPECT_ELIMIT;
    t_stack[t_depth++] = t_cur;
    ix_labels_switch(ix_labels_with(t_cur, key, value), 0);
    return 0;
}

int introspect_labels_pop(void)
{
    if (t_depth <= 0)
        return INTROSPECT_EINVAL;
    ix_labels_switch(t_stack[--t_depth], 0);
    return 0;
}

int introspect_labels_clear(void)
{
    t_depth = 0;
    ix_labels_switch(0, 0);
    return 0;
}
