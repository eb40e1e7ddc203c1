/* The route table and the hot path (see requests/requests.h for the idea).
 *
 * Routes are found by a hash of (method, route) in an open-addressed index
 * read without a lock; a new route is inserted under a mutex, at most
 * max_routes of them (INTROSPECT_MAX_ROUTES): later ones are counted under
 * the route "other", since route names come from requests. A route's
 * memory (rings of sub-histograms) is one mmap: constant per route, and
 * only the pages of buckets actually hit become resident. */
#include "requests/routes.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "introspect.h"
#include "util/clock.h"
#include "util/hash.h"

static struct ix_route_stats *_Atomic g_routes[IX_REQ_MAX_ROUTES + 1];
#define INDEX 4096 /* a power of two, at least twice IX_REQ_MAX_ROUTES */
static _Atomic uint32_t g_index[INDEX]; /* route index + 1 */
static _Atomic int g_nroutes;
static _Atomic int g_max_routes = IX_REQ_DEFAULT_ROUTES;
static _Atomic uint64_t g_folded;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_route_stats *_Atomic g_other;

static int64_t real_clock(void) { return ix_mono_ns(); }
static int64_t (*_Atomic g_clock)(void) = real_clock;

void ix_requests_set_clock(int64_t (*fn)(void)) { atomic_store(&g_clock, fn ? fn : real_clock); }
int64_t ix_requests_now(void) { return atomic_load_explicit(&g_clock, memory_order_relaxed)(); }
int64_t ix_requests_now_from(int64_t mono_ns)
{
    int64_t (*fn)(void) = atomic_load_explicit(&g_clock, memory_order_relaxed);
    return fn == real_clock ? mono_ns : fn();
}

void ix_routes_set_max(unsigned n)
{
    if (n == 0 || n > IX_REQ_MAX_ROUTES)
        n = n ? IX_REQ_MAX_ROUTES : IX_REQ_DEFAULT_ROUTES;
    atomic_store(&g_max_routes, (int)n);
}
int ix_routes_max(void) { return atomic_load(&g_max_routes); }
uint64_t ix_routes_folded(void) { return atomic_load(&g_folded); }

int ix_routes_count(void) { return atomic_load_explicit(&g_nroutes, memory_order_acquire); }
struct ix_route_stats *ix_route_at(int i)
{
    return atomic_load_explicit(&g_routes[i], memory_order_acquire);
}

static uint64_t key_hash(const char *method, const char *route)
{
    uint64_t h = ix_hash_str(IX_HASH_INIT, method);
    h = ix_hash_u64(h, 0x20);
    return ix_hash_fold(ix_hash_str(h, route));
}

static struct ix_route_stats *route_new(const char *method, const char *route)
{
    void *m = mmap(NULL, sizeof(struct ix_route_stats), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct ix_route_stats *r = m;
    pthread_mutex_init(&r->lock, NULL);
    size_t rl = strlen(route), ml = strlen(method);
    if (rl >= sizeof r->route)
        rl = sizeof r->route - 1;
    if (ml >= sizeof r->method)
        ml = sizeof r->method - 1;
    memcpy(r->route, route, rl);
    memcpy(r->method, method, ml);
    for (int i = 0; i < IX_FAST_N; i++)
        atomic_store(&r->fast[i].epoch, -1);
    for (int i = 0; i < IX_SLOW_N; i++)
        r->slow[i].epoch = -1;
    for (int i = 0; i < IX_MIN_N; i++)
        r->mins[i].epoch = -1;
    r->labels = ix_labels_with(0, "route", r->route);
    atomic_store(&r->merged, (uint64_t)r->labels); /* base 0 -> labels */
    ix_routes_match_slos(r);
    return r;
}

/* The stats of (method, route); "other" when the table is full. Never NULL
 * unless out of memory. */
struct ix_route_stats *ix_route_get(const char *method, const char *route)
{
    if (!method)
        method = "";
    uint64_t h = key_hash(method, route);
    const size_t mask = INDEX - 1;
    for (size_t i = 0; i < INDEX; i++) {
        size_t k = (h + i) & mask;
        uint32_t v = atomic_load_explicit(&g_index[k], memory_order_acquire);
        if (!v)
            break;
        struct ix_route_stats *r = ix_route_at((int)v - 1);
        if (r && r->hash == h && !strncmp(r->route, route, sizeof r->route - 1) &&
            !strcmp(r->method, method))
            return r;
    }
    pthread_mutex_lock(&g_lock);
    struct ix_route_stats *r = NULL;
    size_t k = h & mask;
    for (;; k = (k + 1) & mask) {
        uint32_t v = atomic_load(&g_index[k]);
        if (!v)
            break;
        struct ix_route_stats *c = ix_route_at((int)v - 1);
        if (c->hash == h && !strncmp(c->route, route, sizeof c->route - 1) &&
            !strcmp(c->method, method)) {
            r = c;
            break;
        }
    }
    int n = atomic_load(&g_nroutes);
    if (!r && n < atomic_load(&g_max_routes) && (r = route_new(method, route))) {
        r->hash = h;
        atomic_store_explicit(&g_routes[n], r, memory_order_release);
        atomic_store_explicit(&g_nroutes, n + 1, memory_order_release);
        atomic_store_explicit(&g_index[k], (uint32_t)n + 1, memory_order_release);
    }
    if (!r) {
        r = atomic_load(&g_other);
        if (!r && (r = route_new("", "other"))) {
            r->hash = 0;
            r->is_other = 1;
            atomic_store(&g_other, r);
        }
    }
    pthread_mutex_unlock(&g_lock);
    return r;
}

uint32_t ix_route_labels(struct ix_route_stats *r, uint32_t base)
{
    if (base == 0)
        return r->labels;
    uint64_t m = atomic_load_explicit(&r->merged, memory_order_relaxed);
    if ((uint32_t)(m >> 32) == base)
        return (uint32_t)m;
    uint32_t id = ix_labels_with(base, "route", r->route);
    atomic_store_explicit(&r->merged, (uint64_t)base << 32 | id, memory_order_relaxed);
    return id;
}

struct ix_route_stats *ix_route_other(void) { return atomic_load(&g_other); }

void ix_route_count_other(void) { atomic_fetch_add_explicit(&g_folded, 1, memory_order_relaxed); }

int ix_req_bucket(int64_t ns)
{
    if (ns < 64)
        return ns < 0 ? 0 : (int)ns;
    uint64_t v = (uint64_t)ns;
    int e = 63 - __builtin_clzll(v);
    if (e > 36)
        return IX_REQ_NBUCKETS - 1;
    int m = (int)((v >> (e - IX_REQ_SUB_BITS)) & 63);
    return (e - 5) * 64 + m;
}

int64_t ix_req_bucket_low(int b)
{
    if (b < 64)
        return b;
    int e = b / 64 + 5, m = b % 64;
    return (int64_t)(64 + m) << (e - IX_REQ_SUB_BITS);
}

int64_t ix_req_bucket_mid(int b)
{
    if (b < 64)
        return b;
    int e = b / 64 + 5;
    return ix_req_bucket_low(b) + ((int64_t)1 << (e - IX_REQ_SUB_BITS)) / 2;
}

int ix_status_class(int status)
{
    if (status >= 100 && status < 600)
        return status / 100 - 1;
    return IX_ST_OTHER;
}

/* Fold fast slot f (complete) into the hour ring, the SLO minutes and the
 * totals. Caller holds r->lock. */
static void fold(struct ix_route_stats *r, struct ix_fast_slot *f)
{
    int64_t e = atomic_load_explicit(&f->epoch, memory_order_relaxed);
    if (e < 0 || atomic_load_explicit(&f->folded, memory_order_relaxed))
        return;
    int64_t t = e * IX_REQ_STEP_NS;
    int64_t se = t / IX_SLOW_STEP_NS, me = t / IX_MIN_STEP_NS;
    /* A slot older than what its ring slot now holds only adds to the totals
     * (a late fold never erases newer data). */
    struct ix_slow_slot s_sink; /* 8 KiB of stack, only on this rare path */
    struct ix_min_slot m_sink;
    struct ix_slow_slot *s = &r->slow[se % IX_SLOW_N];
    if (s->epoch > se)
        s = &s_sink;
    else if (s->epoch != se) {
        memset(s, 0, sizeof *s);
        s->epoch = se;
    }
    struct ix_min_slot *m = &r->mins[me % IX_MIN_N];
    if (m->epoch > me)
        m = &m_sink;
    else if (m->epoch != me) {
        memset(m, 0, sizeof *m);
        m->epoch = me;
    }
    uint64_t n = 0;
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        uint32_t c = atomic_load_explicit(&f->b[b], memory_order_relaxed);
        if (!c)
            continue;
        n += c;
        s->b[b] += c;
        r->total_b[b] += c;
        for (int k = 0; k < r->nslos; k++)
            if (r->slo_kind[k] == IX_SLO_LATENCY && ix_req_bucket_mid(b) > r->slo_threshold[k])
                m->bad[k] += c;
    }
    for (int c = 0; c < IX_ST_N; c++) {
        uint64_t v = atomic_load_explicit(&f->status[c], memory_order_relaxed);
        s->status[c] += v;
        r->total_status[c] += v;
    }
    uint64_t sum = atomic_load_explicit(&f->sum_ns, memory_order_relaxed);
    s->sum_ns += sum;
    r->total_sum_ns += sum;
    int64_t mx = atomic_load_explicit(&f->max_ns, memory_order_relaxed);
    if (mx > s->max_ns)
        s->max_ns = mx;
    m->total += n;
    uint64_t n5 = atomic_load_explicit(&f->status[IX_ST_5XX], memory_order_relaxed);
    for (int k = 0; k < r->nslos; k++)
        if (r->slo_kind[k] == IX_SLO_AVAIL)
            m->bad[k] += n5;
    atomic_store_explicit(&f->folded, 1, memory_order_relaxed);
}

void ix_route_fold_due(struct ix_route_stats *r, int64_t epoch)
{
    for (int i = 0; i < IX_FAST_N; i++) {
        struct ix_fast_slot *f = &r->fast[i];
        int64_t e = atomic_load_explicit(&f->epoch, memory_order_relaxed);
        if (e >= 0 && e < epoch)
            fold(r, f);
    }
}

/* The slow path of record: slot i belongs to an older epoch. Fold every
 * completed slot, then reset this one for epoch. */
static void roll(struct ix_route_stats *r, struct ix_fast_slot *f, int64_t epoch)
{
    pthread_mutex_lock(&r->lock);
    if (atomic_load_explicit(&f->epoch, memory_order_acquire) < epoch) {
        ix_route_fold_due(r, epoch);
        for (int b = 0; b < IX_REQ_NBUCKETS; b++)
            atomic_store_explicit(&f->b[b], 0, memory_order_relaxed);
        for (int c = 0; c < IX_ST_N; c++)
            atomic_store_explicit(&f->status[c], 0, memory_order_relaxed);
        atomic_store_explicit(&f->sum_ns, 0, memory_order_relaxed);
        atomic_store_explicit(&f->max_ns, 0, memory_order_relaxed);
        atomic_store_explicit(&f->folded, 0, memory_order_relaxed);
        atomic_store_explicit(&f->epoch, epoch, memory_order_release);
    }
    pthread_mutex_unlock(&r->lock);
}

void ix_route_record(struct ix_route_stats *r, int64_t dur_ns, int status, int64_t now_ns)
{
    if (dur_ns < 0)
        dur_ns = 0;
    int64_t epoch = now_ns / IX_REQ_STEP_NS;
    struct ix_fast_slot *f = &r->fast[epoch % IX_FAST_N];
    if (atomic_load_explicit(&f->epoch, memory_order_acquire) != epoch)
        roll(r, f, epoch);
    atomic_fetch_add_explicit(&f->b[ix_req_bucket(dur_ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->status[ix_status_class(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->sum_ns, (uint64_t)dur_ns, memory_order_relaxed);
    int64_t mx = atomic_load_explicit(&f->max_ns, memory_order_relaxed);
    while (dur_ns > mx &&
           !atomic_compare_exchange_weak_explicit(&f->max_ns, &mx, dur_ns, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    if (r->is_other)
        ix_route_count_other();
}
