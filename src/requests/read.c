/* Reading the routes: windows, percentiles, totals and sparklines (see
 * requests/requests.h). Readers take each route's mutex, fold the slots
 * that are complete, and add the current one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"
#include "model/metrics.h"
#include "requests/routes.h"

const char *const ix_req_window_names[IX_WIN_N] = {"1m", "5m", "1h"};
const double ix_req_classic_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const int ix_req_nclassic = sizeof ix_req_classic_bounds / sizeof ix_req_classic_bounds[0];

struct acc {
    uint64_t b[IX_REQ_NBUCKETS];
    uint64_t n, status[IX_ST_N], sum_ns;
    int64_t max;
};

static void acc_fast(struct acc *a, struct ix_fast_slot *f)
{
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        uint32_t c = atomic_load_explicit(&f->b[b], memory_order_relaxed);
        a->b[b] += c;
        a->n += c;
    }
    for (int c = 0; c < IX_ST_N; c++)
        a->status[c] += atomic_load_explicit(&f->status[c], memory_order_relaxed);
    a->sum_ns += atomic_load_explicit(&f->sum_ns, memory_order_relaxed);
    int64_t mx = atomic_load_explicit(&f->max_ns, memory_order_relaxed);
    if (mx > a->max)
        a->max = mx;
}

static void acc_slow(struct acc *a, const struct ix_slow_slot *s)
{
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        a->b[b] += s->b[b];
        a->n += s->b[b];
    }
    for (int c = 0; c < IX_ST_N; c++)
        a->status[c] += s->status[c];
    a->sum_ns += s->sum_ns;
    if (s->max_ns > a->max)
        a->max = s->max_ns;
}

/* The value at quantile q: the midpoint of the bucket holding rank
 * ceil(q n), never above the exact maximum. */
static int64_t quantile(const struct acc *a, double q)
{
    if (!a->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)a->n);
    if ((double)rank < q * (double)a->n)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        cum += a->b[b];
        if (cum >= rank) {
            int64_t v = ix_req_bucket_mid(b);
            return a->max && v > a->max ? a->max : v;
        }
    }
    return a->max;
}

static void window_of(const struct acc *a, struct ix_req_window *w)
{
    w->count = a->n;
    memcpy(w->status, a->status, sizeof w->status);
    w->sum_s = (double)a->sum_ns / 1e9;
    w->p50 = quantile(a, 0.50);
    w->p90 = quantile(a, 0.90);
    w->p95 = quantile(a, 0.95);
    w->p99 = quantile(a, 0.99);
    w->max = a->max;
}

static int view_route(struct ix_route_stats *r, int64_t now, struct ix_req_route_view *v,
                      struct acc *a)
{
    int64_t cur = now / IX_REQ_STEP_NS, cur_slow = now / IX_SLOW_STEP_NS;
    snprintf(v->route, sizeof v->route, "%s", r->route);
    snprintf(v->method, sizeof v->method, "%s", r->method);
    v->classic = calloc((size_t)ix_req_nclassic + 1, sizeof *v->classic);
    if (!v->classic)
        return INTROSPECT_ENOMEM;
    pthread_mutex_lock(&r->lock);
    ix_route_fold_due(r, cur);
    struct ix_fast_slot *curf = NULL;
    for (int i = 0; i < IX_FAST_N; i++) {
        struct ix_fast_slot *f = &r->fast[i];
        if (atomic_load_explicit(&f->epoch, memory_order_acquire) == cur &&
            !atomic_load_explicit(&f->folded, memory_order_relaxed))
            curf = f;
    }
    /* 1 m and 5 m from the fast ring */
    static const int span[2] = {6, 30};
    for (int w = 0; w < 2; w++) {
        memset(a, 0, sizeof *a);
        for (int i = 0; i < IX_FAST_N; i++) {
            struct ix_fast_slot *f = &r->fast[i];
            int64_t e = atomic_load_explicit(&f->epoch, memory_order_acquire);
            if (e >= 0 && e <= cur && e > cur - span[w] - 1)
                acc_fast(a, f);
        }
        window_of(a, &v->win[w]);
    }
    /* sparklines: one point per 10 s slot, oldest first */
    for (int k = 0; k < 30; k++) {
        int64_t e = cur - 29 + k;
        struct ix_fast_slot *f = &r->fast[((e % IX_FAST_N) + IX_FAST_N) % IX_FAST_N];
        v->spark[k] = 0;
        v->spark_p95[k] = 0;
        if (atomic_load_explicit(&f->epoch, memory_order_acquire) == e) {
            memset(a, 0, sizeof *a);
            acc_fast(a, f);
            v->spark[k] = (uint32_t)a->n;
            v->spark_p95[k] = quantile(a, 0.95);
        }
    }
    /* 1 h from the slow ring plus the slot not folded yet */
    memset(a, 0, sizeof *a);
    for (int i = 0; i < IX_SLOW_N; i++)
        if (r->slow[i].epoch >= 0 && r->slow[i].epoch <= cur_slow &&
            r->slow[i].epoch > cur_slow - 12 - 1)
            acc_slow(a, &r->slow[i]);
    if (curf)
        acc_fast(a, curf);
    window_of(a, &v->win[IX_WIN_1H]);
    /* totals */
    memset(a, 0, sizeof *a);
    for (int b = 0; b < IX_REQ_NBUCKETS; b++)
        a->b[b] = r->total_b[b];
    memcpy(a->status, r->total_status, sizeof a->status);
    a->sum_ns = r->total_sum_ns;
    if (curf)
        acc_fast(a, curf);
    pthread_mutex_unlock(&r->lock);
    v->total = 0;
    for (int c = 0; c < IX_ST_N; c++) {
        v->status[c] = a->status[c];
        v->total += a->status[c];
    }
    v->sum_s = (double)a->sum_ns / 1e9;
    /* a log bucket counts under the first classic bound at or above its midpoint */
    int k = 0;
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        if (!a->b[b])
            continue;
        double mid = (double)ix_req_bucket_mid(b) / 1e9;
        while (k < ix_req_nclassic && ix_req_classic_bounds[k] < mid)
            k++;
        v->classic[k] += a->b[b];
    }
    int used = 0;
    for (int b = 0; b < IX_REQ_NBUCKETS; b++)
        used += a->b[b] != 0;
    v->native_idx = malloc((size_t)(used ? used : 1) * sizeof *v->native_idx);
    v->native_count = malloc((size_t)(used ? used : 1) * sizeof *v->native_count);
    if (!v->native_idx || !v->native_count)
        return INTROSPECT_ENOMEM;
    for (int b = 0; b < IX_REQ_NBUCKETS; b++) {
        if (!a->b[b])
            continue;
        int64_t mid = ix_req_bucket_mid(b);
        if (mid <= 0) {
            v->native_zero += a->b[b];
            continue;
        }
        int32_t i = ix_native_index((double)mid / 1e9, IX_REQ_NATIVE_SCHEMA);
        if (v->nnative && v->native_idx[v->nnative - 1] == i) {
            v->native_count[v->nnative - 1] += a->b[b];
        } else {
            v->native_idx[v->nnative] = i;
            v->native_count[v->nnative++] = a->b[b];
        }
    }
    return 0;
}

int ix_requests_snapshot(struct ix_req_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->now_ns = ix_requests_now();
    s->max_routes = ix_routes_max();
    s->folded_routes = ix_routes_folded();
    int n = ix_routes_count();
    struct ix_route_stats *other = ix_route_other();
    s->routes = calloc((size_t)n + 1, sizeof *s->routes);
    struct acc *a = malloc(sizeof *a);
    if (!s->routes || !a) {
        free(a);
        free(s->routes);
        s->routes = NULL;
        return INTROSPECT_ENOMEM;
    }
    for (int i = 0; i <= n; i++) {
        struct ix_route_stats *r = i < n ? ix_route_at(i) : other;
        if (!r)
            continue;
        if (view_route(r, s->now_ns, &s->routes[s->n], a)) {
            free(a);
            s->n++; /* so its partial arrays are freed too */
            ix_requests_snapshot_free(s);
            return INTROSPECT_ENOMEM;
        }
        s->n++;
    }
    free(a);
    return 0;
}

void ix_requests_snapshot_free(struct ix_req_snapshot *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->routes[i].classic);
        free(s->routes[i].native_idx);
        free(s->routes[i].native_count);
    }
    free(s->routes);
    s->routes = NULL;
    s->n = 0;
}

static void json_ms(introspect_json *j, const char *k, int64_t ns)
{
    introspect_json_key(j, k);
    introspect_json_float(j, (double)ns / 1e6);
}

static const char *const class_names[IX_ST_N] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

void ix_requests_json(const struct ix_req_snapshot *s, introspect_json *j)
{
    static const double secs[IX_WIN_N] = {60, 300, 3600};
    introspect_json_object_begin(j);
    introspect_json_key(j, "max_routes");
    introspect_json_int(j, s->max_routes);
    introspect_json_key(j, "over_cap");
    introspect_json_int(j, (int64_t)s->folded_routes);
    introspect_json_key(j, "relative_error");
    introspect_json_float(j, 1.0 / 128);
    introspect_json_key(j, "routes");
    introspect_json_array_begin(j);
    for (int i = 0; i < s->n; i++) {
        const struct ix_req_route_view *v = &s->routes[i];
        introspect_json_object_begin(j);
        introspect_json_key(j, "route");
        introspect_json_string(j, v->route);
        introspect_json_key(j, "method");
        introspect_json_string(j, v->method);
        introspect_json_key(j, "total");
        introspect_json_int(j, (int64_t)v->total);
        introspect_json_key(j, "windows");
        introspect_json_object_begin(j);
        for (int w = 0; w < IX_WIN_N; w++) {
            const struct ix_req_window *x = &v->win[w];
            introspect_json_key(j, ix_req_window_names[w]);
            introspect_json_object_begin(j);
            introspect_json_key(j, "count");
            introspect_json_int(j, (int64_t)x->count);
            introspect_json_key(j, "rate");
            introspect_json_float(j, (double)x->count / secs[w]);
            for (int c = 0; c < IX_ST_N; c++) {
                introspect_json_key(j, class_names[c]);
                introspect_json_int(j, (int64_t)x->status[c]);
            }
            introspect_json_key(j, "error_ratio");
            introspect_json_float(j, x->count ? (double)x->status[IX_ST_5XX] / (double)x->count : 0);
            json_ms(j, "p50_ms", x->p50);
            json_ms(j, "p90_ms", x->p90);
            json_ms(j, "p95_ms", x->p95);
            json_ms(j, "p99_ms", x->p99);
            json_ms(j, "max_ms", x->max);
            introspect_json_object_end(j);
        }
        introspect_json_object_end(j);
        introspect_json_key(j, "spark_count");
        introspect_json_array_begin(j);
        for (int k = 0; k < 30; k++)
            introspect_json_int(j, v->spark[k]);
        introspect_json_array_end(j);
        introspect_json_key(j, "spark_p95_ms");
        introspect_json_array_begin(j);
        for (int k = 0; k < 30; k++)
            introspect_json_float(j, (double)v->spark_p95[k] / 1e6);
        introspect_json_array_end(j);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
    introspect_json_object_end(j);
}
