/* Pools as /metrics and /debug/vars show them. /debug/vars uses Go's
 * database/sql DBStats field names, so dashboards built for Go services read
 * ours unchanged; /metrics follows Prometheus naming (base units, _total). */
#include <stdlib.h>

#include "collectors.h"
#include "util/json.h"
#include "model/metrics.h"
#include "registry/pools.h"

static const char *const close_reason[IX_POOL_NCLOSE] = {
    "max_idle", "max_idle_time", "max_lifetime", "error", "shutdown",
};

static struct ix_pool_snapshot *take(size_t *n)
{
    struct ix_pool_snapshot *s = malloc(IX_POOL_MAX * sizeof *s);
    *n = s ? ix_pools_snapshot(s, IX_POOL_MAX) : 0;
    return s;
}

/* One family with one value per pool; pick chooses the figure. */
static void per_pool(struct ix_mset *set, const struct ix_pool_snapshot *s, size_t n,
                     const char *name, const char *help, enum ix_mtype type,
                     double (*pick)(const struct ix_pool_snapshot *))
{
    struct ix_mfamily *f = ix_mset_family(set, name, help, type);
    for (size_t i = 0; i < n; i++)
        ix_mset_value1(set, f, "pool", s[i].name, pick(&s[i]));
}

static double max_open(const struct ix_pool_snapshot *s) { return (double)s->st.max_open; }
static double pending(const struct ix_pool_snapshot *s) { return (double)s->st.pending; }
static double acquires(const struct ix_pool_snapshot *s) { return (double)s->st.acquires; }
static double waits(const struct ix_pool_snapshot *s) { return (double)s->st.waits; }
static double timeouts(const struct ix_pool_snapshot *s) { return (double)s->st.timeouts; }
static double cancelled(const struct ix_pool_snapshot *s) { return (double)s->st.cancelled; }
static double failed(const struct ix_pool_snapshot *s) { return (double)s->st.failed; }
static double opened(const struct ix_pool_snapshot *s) { return (double)s->st.opened; }

static void connections(struct ix_mset *set, const struct ix_pool_snapshot *s, size_t n)
{
    static const char *const names[2] = {"pool", "state"};
    struct ix_mfamily *f = ix_mset_family(set, "introspect_pool_connections",
                                          "Open connections by state (in_use + idle = open)",
                                          IX_GAUGE);
    for (size_t i = 0; i < n; i++) {
        const char *in_use[2] = {s[i].name, "in_use"}, *idle[2] = {s[i].name, "idle"};
        ix_mset_value(set, f, names, in_use, 2, (double)s[i].st.in_use);
        ix_mset_value(set, f, names, idle, 2, (double)s[i].st.idle);
    }
}

static void closed(struct ix_mset *set, const struct ix_pool_snapshot *s, size_t n)
{
    static const char *const names[2] = {"pool", "reason"};
    struct ix_mfamily *f = ix_mset_family(set, "introspect_pool_closed_total",
                                          "Connections closed, by reason", IX_COUNTER);
    for (size_t i = 0; i < n; i++)
        for (int r = 0; r < IX_POOL_NCLOSE; r++) {
            const char *v[2] = {s[i].name, close_reason[r]};
            ix_mset_value(set, f, names, v, 2, (double)s[i].st.closed[r]);
        }
}

static void wait_histogram(struct ix_mset *set, const struct ix_pool_snapshot *s, size_t n)
{
    static const char *const names[1] = {"pool"};
    struct ix_mfamily *f = ix_mset_family(
        set, "introspect_pool_wait_seconds",
        "Duration of acquires that had to wait (no idle connection, no room to open one)",
        IX_HISTOGRAM);
    for (size_t i = 0; i < n; i++) {
        const char *v[1] = {s[i].name};
        ix_mset_histogram(set, f, names, v, 1, ix_pool_bounds_s, s[i].buckets, IX_POOL_NBOUNDS,
                          (double)s[i].st.wait_ns / 1e9);
    }
}

void ix_collect_pools(struct ix_mset *set)
{
    size_t n;
    struct ix_pool_snapshot *s = take(&n);
    if (!s || n == 0) {
        free(s);
        return;
    }
    connections(set, s, n);
    per_pool(set, s, n, "introspect_pool_max_connections",
             "Maximum open connections (0 = unlimited)", IX_GAUGE, max_open);
    per_pool(set, s, n, "introspect_pool_pending_acquires", "Acquires in progress now",
             IX_GAUGE, pending);
    per_pool(set, s, n, "introspect_pool_acquires_total", "Acquires ended, any outcome",
             IX_COUNTER, acquires);
    per_pool(set, s, n, "introspect_pool_waits_total",
             "Acquires that had to wait for a connection", IX_COUNTER, waits);
    wait_histogram(set, s, n);
    per_pool(set, s, n, "introspect_pool_timeouts_total", "Acquires that timed out",
             IX_COUNTER, timeouts);
    per_pool(set, s, n, "introspect_pool_cancelled_total", "Acquires that were cancelled",
             IX_COUNTER, cancelled);
    per_pool(set, s, n, "introspect_pool_acquire_errors_total",
             "Acquires that failed (e.g. a connection could not be opened)", IX_COUNTER,
             failed);
    per_pool(set, s, n, "introspect_pool_opened_total", "Connections opened", IX_COUNTER,
             opened);
    closed(set, s, n);
    free(s);
}

static void kv_i(introspect_json *j, const char *k, int64_t v)
{
    introspect_json_key(j, k);
    introspect_json_int(j, v);
}

static void kv_u(introspect_json *j, const char *k, uint64_t v)
{
    introspect_json_key(j, k);
    ix_json_uint(j, v);
}

static void histogram_json(introspect_json *j, const struct ix_pool_snapshot *s)
{
    introspect_json_key(j, "WaitHistogram");
    introspect_json_object_begin(j);
    introspect_json_key(j, "unit");
    introspect_json_string(j, "seconds");
    introspect_json_key(j, "bounds"); /* upper bounds; counts has one more: +Inf */
    introspect_json_array_begin(j);
    for (int b = 0; b < IX_POOL_NBOUNDS; b++)
        introspect_json_float(j, ix_pool_bounds_s[b]);
    introspect_json_array_end(j);
    introspect_json_key(j, "counts"); /* per bucket, not cumulative */
    introspect_json_array_begin(j);
    uint64_t total = 0;
    for (int b = 0; b <= IX_POOL_NBOUNDS; b++) {
        ix_json_uint(j, s->buckets[b]);
        total += s->buckets[b];
    }
    introspect_json_array_end(j);
    kv_u(j, "count", total);
    introspect_json_key(j, "sum");
    introspect_json_float(j, (double)s->st.wait_ns / 1e9);
    introspect_json_object_end(j);
}

static void pool_json(introspect_json *j, const struct ix_pool_snapshot *s)
{
    const introspect_pool_stats *st = &s->st;
    introspect_json_key(j, s->name);
    introspect_json_object_begin(j);
    kv_i(j, "MaxOpenConnections", st->max_open);
    kv_i(j, "OpenConnections", st->open);
    kv_i(j, "InUse", st->in_use);
    kv_i(j, "Idle", st->idle);
    kv_u(j, "WaitCount", st->waits);
    kv_u(j, "WaitDuration", st->wait_ns);
    kv_u(j, "MaxIdleClosed", st->closed[INTROSPECT_POOL_CLOSE_MAX_IDLE]);
    kv_u(j, "MaxIdleTimeClosed", st->closed[INTROSPECT_POOL_CLOSE_IDLE_TIME]);
    kv_u(j, "MaxLifetimeClosed", st->closed[INTROSPECT_POOL_CLOSE_LIFETIME]);
    /* Beyond DBStats. */
    kv_u(j, "ErrorClosed", st->closed[INTROSPECT_POOL_CLOSE_ERROR]);
    kv_u(j, "ShutdownClosed", st->closed[INTROSPECT_POOL_CLOSE_SHUTDOWN]);
    kv_u(j, "Opened", st->opened);
    kv_u(j, "Acquires", st->acquires);
    kv_u(j, "Timeouts", st->timeouts);
    kv_u(j, "Cancelled", st->cancelled);
    kv_u(j, "AcquireErrors", st->failed);
    kv_i(j, "Pending", st->pending);
    kv_i(j, "InUsePeak", st->in_use_peak);
    histogram_json(j, s);
    introspect_json_object_end(j);
}

void ix_vars_pools(introspect_json *j)
{
    size_t n;
    struct ix_pool_snapshot *s = take(&n);
    introspect_json_object_begin(j);
    for (size_t i = 0; i < n; i++)
        pool_json(j, &s[i]);
    introspect_json_object_end(j);
    free(s);
}
