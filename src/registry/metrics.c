/* Counters, gauges and histograms with label sets.
 *
 * Each metric keeps its series in a fixed array of hash chains. Chains are
 * only ever prepended, with a release store, and series are never freed, so
 * lookups and updates of an existing series take no lock: readers follow
 * acquire loads. Creating a series takes the metric's mutex and re-checks.
 * Values are doubles stored as bits in atomics (CAS loop for add), so
 * concurrent updates are exact. A histogram's count is derived from its
 * buckets, so _count always equals the +Inf bucket in a scrape. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"
#include "registry/registry.h"
#include "util/atomic_double.h"
#include "util/hash.h"

#define NCHAINS 256
#define MAX_SERIES_PER_METRIC 100000

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM };

struct series {
    struct series *_Atomic next;
    struct series *_Atomic next_all; /* creation order, for rendering */
    uint64_t hash;
    char **values;
    _Atomic uint64_t bits; /* counter/gauge value */
    _Atomic uint64_t sum_bits;
    _Atomic uint64_t *buckets; /* nbounds + 1 */
};

struct metric {
    enum kind kind;
    char *name, *help;
    size_t nlabels;
    char **label_names;
    double *bounds;
    size_t nbounds;
    struct series *_Atomic chains[NCHAINS];
    struct series *_Atomic first; /* creation order */
    struct series *last;
    atomic_size_t nseries;
    pthread_mutex_t lock;
    struct metric *next;
};

struct introspect_counter { struct metric m; };
struct introspect_gauge { struct metric m; };
struct introspect_histogram { struct metric m; };

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *g_first, *g_last;

static const double default_bounds[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

static int valid_name(const char *s, int colon_ok)
{
    if (!s || !*s || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon_ok && *s == ':')))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Our own families use these prefixes; sharing them would duplicate names. */
static int reserved_name(const char *name)
{
    return strncmp(name, "process_", 8) == 0 || strncmp(name, "introspect_", 11) == 0;
}

static int check_labels(const char *const *names, size_t n, enum kind k)
{
    if (n > 16 || (n && !names))
        return INTROSPECT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(names[i], 0) || strncmp(names[i], "__", 2) == 0 ||
            (k == K_HISTOGRAM && strcmp(names[i], "le") == 0))
            return INTROSPECT_ENAME;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return INTROSPECT_ENAME;
    }
    return 0;
}

static void free_metric(struct metric *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nlabels && m->label_names; i++)
        free(m->label_names[i]);
    free(m->label_names);
    free(m->bounds);
    free(m->name);
    free(m->help);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int register_metric(struct metric *m)
{
    pthread_mutex_lock(&g_reg_lock);
    for (struct metric *o = g_first; o; o = o->next)
        if (strcmp(o->name, m->name) == 0) {
            pthread_mutex_unlock(&g_reg_lock);
            return INTROSPECT_EEXIST;
        }
    if (g_last)
        g_last->next = m;
    else
        g_first = m;
    g_last = m;
    pthread_mutex_unlock(&g_reg_lock);
    return 0;
}

static int new_metric(enum kind k, const char *name, const char *help, const char *const *labels,
                      size_t nlabels, const double *bounds, size_t nbounds, struct metric **out)
{
    if (!out)
        return INTROSPECT_EINVAL;
    *out = NULL;
    if (!valid_name(name, 1) || reserved_name(name) || (k == K_COUNTER && !ends_with(name, "_total")))
        return INTROSPECT_ENAME;
    int rc = check_labels(labels, nlabels, k);
    if (rc)
        return rc;
    for (size_t i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return INTROSPECT_EINVAL;
    struct metric *m = calloc(1, sizeof *m);
    if (!m)
        return INTROSPECT_ENOMEM;
    pthread_mutex_init(&m->lock, NULL);
    m->kind = k;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->nlabels = nlabels;
    m->label_names = calloc(nlabels ? nlabels : 1, sizeof *m->label_names);
    m->nbounds = nbounds;
    m->bounds = malloc((nbounds ? nbounds : 1) * sizeof *m->bounds);
    int oom = !m->name || !m->help || !m->label_names || !m->bounds;
    for (size_t i = 0; !oom && i < nlabels; i++)
        oom = !(m->label_names[i] = strdup(labels[i]));
    if (oom) {
        free_metric(m);
        return INTROSPECT_ENOMEM;
    }
    if (nbounds)
        memcpy(m->bounds, bounds, nbounds * sizeof *bounds);
    rc = register_metric(m);
    if (rc) {
        free_metric(m);
        return rc;
    }
    *out = m;
    return 0;
}

static uint64_t hash_values(const char *const *v, size_t n)
{
    uint64_t h = IX_HASH_INIT;
    for (size_t i = 0; i < n; i++) /* 0xff separates: ("a","bc") != ("ab","c") */
        h = ix_hash_u64(ix_hash_str(h, v[i]), 0xff);
    return h;
}

static struct series *find_in_chain(struct series *s, uint64_t h, const char *const *v, size_t n)
{
    for (; s; s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (s->hash != h)
            continue;
        size_t i = 0;
        while (i < n && strcmp(s->values[i], v[i]) == 0)
            i++;
        if (i == n)
            return s;
    }
    return NULL;
}

static struct series *new_series(struct metric *m, uint64_t h, const char *const *v)
{
    struct series *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->hash = h;
    s->values = calloc(m->nlabels ? m->nlabels : 1, sizeof *s->values);
    if (m->kind == K_HISTOGRAM)
        s->buckets = calloc(m->nbounds + 1, sizeof *s->buckets);
    int oom = !s->values || (m->kind == K_HISTOGRAM && !s->buckets);
    for (size_t i = 0; !oom && i < m->nlabels; i++)
        oom = !(s->values[i] = strdup(v[i]));
    if (oom) {
        for (size_t i = 0; s->values && i < m->nlabels; i++)
            free(s->values[i]);
        free(s->values);
        free(s->buckets);
        free(s);
        return NULL;
    }
    return s;
}

/* Lock-free for an existing series; the first use of a label set allocates. */
static int lookup(struct metric *m, const char *const *values, struct series **out)
{
    static const char *const none[1] = {""};
    if (m->nlabels && !values)
        return INTROSPECT_ELABELS;
    for (size_t i = 0; i < m->nlabels; i++)
        if (!values[i])
            return INTROSPECT_ELABELS;
    if (!m->nlabels)
        values = none;
    uint64_t h = hash_values(values, m->nlabels);
    struct series *_Atomic *chain = &m->chains[h % NCHAINS];
    struct series *s = find_in_chain(atomic_load_explicit(chain, memory_order_acquire), h, values, m->nlabels);
    if (s) {
        *out = s;
        return 0;
    }
    pthread_mutex_lock(&m->lock);
    s = find_in_chain(atomic_load_explicit(chain, memory_order_acquire), h, values, m->nlabels);
    int rc = 0;
    if (!s) {
        if (atomic_load(&m->nseries) >= MAX_SERIES_PER_METRIC)
            rc = INTROSPECT_ELIMIT;
        else if (!(s = new_series(m, h, values)))
            rc = INTROSPECT_ENOMEM;
        else {
            atomic_store_explicit(&s->next, atomic_load(chain), memory_order_relaxed);
            atomic_store_explicit(chain, s, memory_order_release);
            if (m->last)
                atomic_store_explicit(&m->last->next_all, s, memory_order_release);
            else
                atomic_store_explicit(&m->first, s, memory_order_release);
            m->last = s;
            atomic_fetch_add(&m->nseries, 1);
        }
    }
    pthread_mutex_unlock(&m->lock);
    *out = s;
    return rc;
}

int introspect_counter_new(const char *name, const char *help, const char *const *label_names,
                           size_t nlabels, introspect_counter **out)
{
    return new_metric(K_COUNTER, name, help, label_names, nlabels, NULL, 0, (struct metric **)out);
}

int introspect_gauge_new(const char *name, const char *help, const char *const *label_names,
                         size_t nlabels, introspect_gauge **out)
{
    return new_metric(K_GAUGE, name, help, label_names, nlabels, NULL, 0, (struct metric **)out);
}

int introspect_histogram_new(const char *name, const char *help, const char *const *label_names,
                             size_t nlabels, const double *bounds, size_t nbounds,
                             introspect_histogram **out)
{
    if (!bounds) {
        bounds = default_bounds;
        nbounds = sizeof default_bounds / sizeof default_bounds[0];
    }
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]))
            return INTROSPECT_EINVAL;
    return new_metric(K_HISTOGRAM, name, help, label_names, nlabels, bounds, nbounds,
                      (struct metric **)out);
}

/* The common preamble of every update: handle, type, then the series. */
static int series_of(struct metric *m, enum kind k, const char *const *values, struct series **out)
{
    if (!m)
        return INTROSPECT_EINVAL;
    if (m->kind != k)
        return INTROSPECT_ETYPE;
    return lookup(m, values, out);
}

int introspect_counter_add(introspect_counter *c, const char *const *label_values, double delta)
{
    if (!(delta >= 0) || isinf(delta))
        return INTROSPECT_EINVAL;
    struct series *s;
    int rc = series_of(c ? &c->m : NULL, K_COUNTER, label_values, &s);
    if (!rc)
        ix_atomic_add_double(&s->bits, delta);
    return rc;
}

int introspect_gauge_set(introspect_gauge *g, const char *const *label_values, double value)
{
    struct series *s;
    int rc = series_of(g ? &g->m : NULL, K_GAUGE, label_values, &s);
    if (!rc)
        atomic_store_explicit(&s->bits, ix_to_bits(value), memory_order_relaxed);
    return rc;
}

int introspect_gauge_add(introspect_gauge *g, const char *const *label_values, double delta)
{
    if (isnan(delta))
        return INTROSPECT_EINVAL;
    struct series *s;
    int rc = series_of(g ? &g->m : NULL, K_GAUGE, label_values, &s);
    if (!rc)
        ix_atomic_add_double(&s->bits, delta);
    return rc;
}

int introspect_histogram_observe(introspect_histogram *h, const char *const *label_values,
                                 double value)
{
    if (isnan(value))
        return INTROSPECT_EINVAL;
    struct series *s;
    int rc = series_of(h ? &h->m : NULL, K_HISTOGRAM, label_values, &s);
    if (rc)
        return rc;
    size_t lo = 0, hi = h->m.nbounds; /* first bound >= value, or +Inf */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->m.bounds[mid] >= value)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
    ix_atomic_add_double(&s->sum_bits, value);
    return 0;
}

/* ---- rendering ---- */

static struct metric *first_metric(void)
{
    pthread_mutex_lock(&g_reg_lock);
    struct metric *m = g_first;
    pthread_mutex_unlock(&g_reg_lock);
    return m;
}

/* The list only grows at its tail and metrics are never freed, so a reader
 * that took the head under the lock can walk next pointers set before. */
static struct metric *next_metric(struct metric *m)
{
    pthread_mutex_lock(&g_reg_lock);
    struct metric *n = m->next;
    pthread_mutex_unlock(&g_reg_lock);
    return n;
}

static void collect_series(struct ix_mset *set, struct ix_mfamily *f, struct metric *m,
                           struct series *s, uint64_t *counts)
{
    const char *const *names = (const char *const *)m->label_names;
    const char *const *vals = (const char *const *)s->values;
    if (m->kind != K_HISTOGRAM) {
        double v = ix_from_bits(atomic_load_explicit(&s->bits, memory_order_relaxed));
        ix_mset_value(set, f, names, vals, (int)m->nlabels, v);
        return;
    }
    for (size_t i = 0; i <= m->nbounds; i++)
        counts[i] = atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    double sum = ix_from_bits(atomic_load_explicit(&s->sum_bits, memory_order_relaxed));
    ix_mset_histogram(set, f, names, vals, (int)m->nlabels, m->bounds, counts, m->nbounds, sum);
}

void ix_registry_collect(struct ix_mset *set)
{
    for (struct metric *m = first_metric(); m; m = next_metric(m)) {
        enum ix_mtype t = m->kind == K_COUNTER ? IX_COUNTER : m->kind == K_GAUGE ? IX_GAUGE : IX_HISTOGRAM;
        struct ix_mfamily *f = ix_mset_family(set, m->name, m->help, t);
        uint64_t *counts = calloc(m->nbounds + 1, sizeof *counts);
        if (!f || !counts) {
            free(counts);
            set->oom = 1;
            return;
        }
        for (struct series *s = atomic_load_explicit(&m->first, memory_order_acquire); s;
             s = atomic_load_explicit(&s->next_all, memory_order_acquire))
            collect_series(set, f, m, s, counts);
        free(counts);
    }
}

static void json_series(introspect_json *j, struct metric *m, struct series *s)
{
    introspect_json_object_begin(j);
    if (m->nlabels) {
        introspect_json_key(j, "labels");
        introspect_json_object_begin(j);
        for (size_t i = 0; i < m->nlabels; i++) {
            introspect_json_key(j, m->label_names[i]);
            introspect_json_string(j, s->values[i]);
        }
        introspect_json_object_end(j);
    }
    if (m->kind != K_HISTOGRAM) {
        introspect_json_key(j, "value");
        introspect_json_float(j, ix_from_bits(atomic_load(&s->bits)));
    } else {
        uint64_t total = 0;
        introspect_json_key(j, "buckets");
        introspect_json_array_begin(j);
        for (size_t i = 0; i <= m->nbounds; i++) {
            total += atomic_load(&s->buckets[i]);
            introspect_json_object_begin(j);
            introspect_json_key(j, "le");
            if (i < m->nbounds)
                introspect_json_float(j, m->bounds[i]);
            else
                introspect_json_string(j, "+Inf");
            introspect_json_key(j, "count");
            ix_json_uint(j, total);
            introspect_json_object_end(j);
        }
        introspect_json_array_end(j);
        introspect_json_key(j, "count");
        ix_json_uint(j, total);
        introspect_json_key(j, "sum");
        introspect_json_float(j, ix_from_bits(atomic_load(&s->sum_bits)));
    }
    introspect_json_object_end(j);
}

void ix_registry_json(introspect_json *j)
{
    introspect_json_object_begin(j);
    for (struct metric *m = first_metric(); m; m = next_metric(m)) {
        introspect_json_key(j, m->name);
        introspect_json_array_begin(j);
        for (struct series *s = atomic_load_explicit(&m->first, memory_order_acquire); s;
             s = atomic_load_explicit(&s->next_all, memory_order_acquire))
            json_series(j, m, s);
        introspect_json_array_end(j);
    }
    introspect_json_object_end(j);
}
