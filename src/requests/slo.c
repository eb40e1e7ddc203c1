/* Service-level objectives over routes and their error-budget burn rates,
 * as the SRE workbook's multi-window, multi-burn-rate alerts (chapter 5):
 *   page:   burn over 1 h  > 14.4 and over 5 min  > 14.4 (2% of a 30-day
 *           budget spent in an hour; the short window makes it clear fast)
 *   ticket: burn over 6 h  > 6    and over 30 min > 6    (5% in 6 hours).
 * burn = (bad / total) / (1 - objective) over a window. Counts come from
 * each route's one-minute slots, so windows are whole minutes plus the
 * current one; a latency request is bad when its bucket's midpoint is above
 * the threshold (the bucket error, 0.79%, applies at the threshold). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"
#include "requests/routes.h"
#include "util/duration.h"
#include "config.h"

const char *const ix_slo_window_names[IX_BW_N] = {"5m", "30m", "1h", "6h"};
static const int64_t win_ns[IX_BW_N] = {300 * 1000000000LL, 1800 * 1000000000LL,
                                        3600 * 1000000000LL, 21600 * 1000000000LL};

static struct ix_slo_def g_slos[IX_SLO_MAX];
static _Atomic int g_nslos;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

int ix_slo_count(void) { return atomic_load_explicit(&g_nslos, memory_order_acquire); }
const struct ix_slo_def *ix_slo_get(int i) { return &g_slos[i]; }

int ix_slo_matches(const struct ix_slo_def *d, const char *route)
{
    size_t n = strlen(d->pattern);
    if (n && d->pattern[n - 1] == '*')
        return strncmp(d->pattern, route, n - 1) == 0;
    return strcmp(d->pattern, route) == 0;
}

void ix_routes_match_slos(struct ix_route_stats *r)
{
    pthread_mutex_lock(&r->lock);
    int n = ix_slo_count(), k = r->nslos;
    for (int i = 0; i < n && k < IX_SLO_PER_ROUTE; i++) {
        int have = 0;
        for (int j = 0; j < k; j++)
            have |= r->slo_index[j] == i;
        if (have || r->is_other || !ix_slo_matches(&g_slos[i], r->route))
            continue;
        r->slo_index[k] = i;
        r->slo_kind[k] = g_slos[i].kind;
        r->slo_threshold[k] = g_slos[i].threshold_ns;
        k++;
    }
    r->nslos = k;
    pthread_mutex_unlock(&r->lock);
}

static int parse_one(const char *item, struct ix_slo_def *d, char *why, size_t whylen)
{
    memset(d, 0, sizeof *d);
    const char *colon = strrchr(item, ':');
    const char *at = strrchr(item, '@');
    if (!colon || !at || at < colon || colon == item) {
        snprintf(why, whylen, "SLO \"%s\": expected ROUTE:latency<DURATION@PERCENT or "
                              "ROUTE:avail@PERCENT", item);
        return INTROSPECT_EINVAL;
    }
    size_t pl = (size_t)(colon - item);
    if (pl >= sizeof d->pattern) {
        snprintf(why, whylen, "SLO \"%s\": route pattern too long", item);
        return INTROSPECT_EINVAL;
    }
    memcpy(d->pattern, item, pl);
    char what[64];
    size_t wl = (size_t)(at - colon - 1);
    if (wl >= sizeof what)
        wl = sizeof what - 1;
    memcpy(what, colon + 1, wl);
    what[wl] = 0;
    char *end;
    double pct = strtod(at + 1, &end);
    if (end == at + 1 || *end || !(pct > 0 && pct < 100)) {
        snprintf(why, whylen, "SLO \"%s\": the objective after '@' must be a percentage "
                              "between 0 and 100 (exclusive)", item);
        return INTROSPECT_EINVAL;
    }
    d->objective = pct / 100;
    if (!strcmp(what, "avail")) {
        d->kind = IX_SLO_AVAIL;
        snprintf(d->name, sizeof d->name, "%.*s:avail@%g", (int)pl, item, pct);
    } else if (!strncmp(what, "latency<", 8)) {
        d->kind = IX_SLO_LATENCY;
        if (ix_parse_duration_ns(what + 8, &d->threshold_ns) || d->threshold_ns <= 0) {
            snprintf(why, whylen, "SLO \"%s\": \"%s\" is not a duration such as 300ms", item,
                     what + 8);
            return INTROSPECT_EINVAL;
        }
        snprintf(d->name, sizeof d->name, "%.*s:latency<%s@%g", (int)pl, item, what + 8, pct);
    } else {
        snprintf(why, whylen, "SLO \"%s\": \"%s\" is neither latency<DURATION nor avail", item,
                 what);
        return INTROSPECT_EINVAL;
    }
    return 0;
}

int ix_slo_add_spec(const char *spec, char *why, size_t whylen)
{
    if (!spec)
        return INTROSPECT_EINVAL;
    char buf[1024];
    if (strlen(spec) >= sizeof buf) {
        snprintf(why, whylen, "SLO spec longer than %zu bytes", sizeof buf - 1);
        return INTROSPECT_EINVAL;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    struct ix_slo_def defs[IX_SLO_MAX];
    int nd = 0;
    for (char *save = NULL, *it = strtok_r(buf, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
        while (*it == ' ')
            it++;
        if (!*it)
            continue;
        if (nd == IX_SLO_MAX) {
            snprintf(why, whylen, "more than %d SLOs", IX_SLO_MAX);
            return INTROSPECT_ELIMIT;
        }
        int rc = parse_one(it, &defs[nd], why, whylen);
        if (rc)
            return rc;
        nd++;
    }
    pthread_mutex_lock(&g_lock);
    int n = atomic_load(&g_nslos), rc = 0;
    for (int i = 0; i < nd && !rc; i++) {
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup |= !strcmp(g_slos[k].name, defs[i].name);
        if (dup)
            continue;
        if (n == IX_SLO_MAX) {
            snprintf(why, whylen, "more than %d SLOs", IX_SLO_MAX);
            rc = INTROSPECT_ELIMIT;
            break;
        }
        g_slos[n] = defs[i];
        atomic_store_explicit(&g_nslos, ++n, memory_order_release);
    }
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < ix_routes_count(); i++)
        ix_routes_match_slos(ix_route_at(i));
    return rc;
}

int introspect_slo_add(const char *spec)
{
    char why[256];
    return ix_slo_add_spec(spec, why, sizeof why);
}

/* SLO counts of the routes feeding slo over windows ending now: whole
 * minutes folded so far plus the slot in progress. */
void ix_requests_slo_counts(int slo, int64_t now, const int64_t *wins, int nwin, uint64_t *total,
                            uint64_t *bad, int *routes)
{
    int64_t cur = now / IX_REQ_STEP_NS, curm = now / IX_MIN_STEP_NS;
    *routes = 0;
    for (int i = 0, n = ix_routes_count(); i < n; i++) {
        struct ix_route_stats *r = ix_route_at(i);
        pthread_mutex_lock(&r->lock);
        int k = -1;
        for (int s = 0; s < r->nslos; s++)
            if (r->slo_index[s] == slo)
                k = s;
        if (k < 0) {
            pthread_mutex_unlock(&r->lock);
            continue;
        }
        (*routes)++;
        ix_route_fold_due(r, cur);
        for (int m = 0; m < IX_MIN_N; m++) {
            const struct ix_min_slot *ms = &r->mins[m];
            if (ms->epoch < 0 || ms->epoch > curm)
                continue;
            for (int w = 0; w < nwin; w++)
                if (ms->epoch > curm - wins[w] / IX_MIN_STEP_NS) {
                    total[w] += ms->total;
                    bad[w] += ms->bad[k];
                }
        }
        /* the current ten seconds, not folded yet */
        struct ix_fast_slot *f = &r->fast[cur % IX_FAST_N];
        if (atomic_load(&f->epoch) == cur && !atomic_load(&f->folded)) {
            uint64_t n = 0, b = 0;
            for (int x = 0; x < IX_REQ_NBUCKETS; x++) {
                uint32_t c = atomic_load_explicit(&f->b[x], memory_order_relaxed);
                n += c;
                if (r->slo_kind[k] == IX_SLO_LATENCY && ix_req_bucket_mid(x) > r->slo_threshold[k])
                    b += c;
            }
            if (r->slo_kind[k] == IX_SLO_AVAIL)
                b = atomic_load_explicit(&f->status[IX_ST_5XX], memory_order_relaxed);
            for (int w = 0; w < nwin; w++) {
                total[w] += n;
                bad[w] += b;
            }
        }
        pthread_mutex_unlock(&r->lock);
    }
}

int ix_slo_evaluate(struct ix_slo_view **out)
{
    int n = ix_slo_count();
    *out = calloc((size_t)n + 1, sizeof **out);
    if (!*out)
        return INTROSPECT_ENOMEM;
    int64_t now = ix_requests_now();
    for (int i = 0; i < n; i++) {
        struct ix_slo_view *v = &(*out)[i];
        v->def = &g_slos[i];
        ix_requests_slo_counts(i, now, win_ns, IX_BW_N, v->total, v->bad, &v->routes);
        double allowed = 1 - v->def->objective;
        for (int w = 0; w < IX_BW_N; w++)
            v->burn[w] = v->total[w] ? ((double)v->bad[w] / (double)v->total[w]) / allowed : 0;
        v->compliance_6h =
            v->total[IX_BW_6H] ? 1 - (double)v->bad[IX_BW_6H] / (double)v->total[IX_BW_6H] : 1;
        v->budget_left_6h = 1 - v->burn[IX_BW_6H];
        v->fast_burn = v->burn[IX_BW_1H] > 14.4 && v->burn[IX_BW_5M] > 14.4;
        v->slow_burn = v->burn[IX_BW_6H] > 6 && v->burn[IX_BW_30M] > 6;
    }
    return n;
}

void ix_slo_json(const struct ix_slo_view *v, int n, introspect_json *j)
{
    introspect_json_object_begin(j);
    introspect_json_key(j, "slos");
    introspect_json_array_begin(j);
    for (int i = 0; i < n; i++) {
        const struct ix_slo_view *s = &v[i];
        introspect_json_object_begin(j);
        introspect_json_key(j, "name");
        introspect_json_string(j, s->def->name);
        introspect_json_key(j, "pattern");
        introspect_json_string(j, s->def->pattern);
        introspect_json_key(j, "kind");
        introspect_json_string(j, s->def->kind == IX_SLO_LATENCY ? "latency" : "availability");
        if (s->def->kind == IX_SLO_LATENCY) {
            introspect_json_key(j, "threshold_ms");
            introspect_json_float(j, (double)s->def->threshold_ns / 1e6);
        }
        introspect_json_key(j, "objective");
        introspect_json_float(j, s->def->objective);
        introspect_json_key(j, "routes");
        introspect_json_int(j, s->routes);
        introspect_json_key(j, "compliance");
        introspect_json_float(j, s->compliance_6h);
        introspect_json_key(j, "budget_left");
        introspect_json_float(j, s->budget_left_6h);
        introspect_json_key(j, "windows");
        introspect_json_object_begin(j);
        for (int w = 0; w < IX_BW_N; w++) {
            introspect_json_key(j, ix_slo_window_names[w]);
            introspect_json_object_begin(j);
            introspect_json_key(j, "total");
            introspect_json_int(j, (int64_t)s->total[w]);
            introspect_json_key(j, "bad");
            introspect_json_int(j, (int64_t)s->bad[w]);
            introspect_json_key(j, "burn_rate");
            introspect_json_float(j, s->burn[w]);
            introspect_json_object_end(j);
        }
        introspect_json_object_end(j);
        introspect_json_key(j, "alerts");
        introspect_json_object_begin(j);
        introspect_json_key(j, "fast_burn");
        introspect_json_bool(j, s->fast_burn);
        introspect_json_key(j, "slow_burn");
        introspect_json_bool(j, s->slow_burn);
        introspect_json_object_end(j);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
    introspect_json_object_end(j);
}

int ix_requests_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    if (cfg->max_routes)
        ix_routes_set_max(cfg->max_routes);
    if (cfg->slo && *cfg->slo) {
        int rc = ix_slo_add_spec(cfg->slo, why, whylen);
        if (rc && why[0] && !strstr(why, "INTROSPECT_SLO")) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "INTROSPECT_SLO: %s", why);
            snprintf(why, whylen, "%s", tmp);
        }
        return rc;
    }
    return 0;
}
