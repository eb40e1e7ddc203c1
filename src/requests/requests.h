/* Requests by route (include/introspect.h, introspect_request_*): latency
 * distributions over sliding windows, status classes, and SLO burn rates,
 * as the endpoints and collectors read them.
 *
 * Latencies go into log-linear histograms (64 linear sub-buckets per power
 * of two of nanoseconds, as HdrHistogram): a value is reported as its
 * bucket's midpoint, within 1/128 (0.79%) of the true value, in a constant
 * 2048 buckets covering 1 ns to 137 s (longer values land in the last one).
 *
 * Each route has a ring of 31 ten-second sub-histograms (the 1 and 5 minute
 * windows), a ring of 13 five-minute ones (the hour) and a ring of 361
 * one-minute SLO counters (6 hours). The hot path touches only the current
 * ten-second slot: one atomic add to a bucket and one to a status class (no
 * lock). A completed ten-second slot is folded into the five-minute ring,
 * the SLO minutes and the totals by the first request of a later slot,
 * under the route's mutex (once per 10 s per route); readers take the same
 * mutex and add the slots not folded yet, so totals only grow. */
#ifndef IX_REQUESTS_H
#define IX_REQUESTS_H

#include <stdint.h>

#include "util/json.h"

#define IX_REQ_SUB_BITS 6
#define IX_REQ_NBUCKETS 2048
#define IX_REQ_STEP_NS 10000000000LL /* the fast ring's slot: 10 s */
#define IX_REQ_MAX_ROUTES 1024       /* hard cap; INTROSPECT_MAX_ROUTES picks below it */
#define IX_REQ_DEFAULT_ROUTES 64
#define IX_SLO_MAX 16
#define IX_SLO_PER_ROUTE 4

/* Status classes: 1xx..5xx and anything else. */
enum { IX_ST_1XX, IX_ST_2XX, IX_ST_3XX, IX_ST_4XX, IX_ST_5XX, IX_ST_OTHER, IX_ST_N };

/* Bucket of a latency and the midpoint a bucket reports. */
int ix_req_bucket(int64_t ns);
int64_t ix_req_bucket_low(int b);
int64_t ix_req_bucket_mid(int b);

/* Windows: 1 min, 5 min, 1 h (each covers its length up to one slot more). */
enum { IX_WIN_1M, IX_WIN_5M, IX_WIN_1H, IX_WIN_N };
extern const char *const ix_req_window_names[IX_WIN_N];

struct ix_req_window {
    uint64_t count;
    uint64_t status[IX_ST_N];
    double sum_s;      /* seconds (1 h and total only: 0 in the shorter windows) */
    int64_t p50, p90, p95, p99, max; /* ns; 0 when empty */
};

struct ix_req_route_view {
    char route[128];
    char method[16];
    struct ix_req_window win[IX_WIN_N];
    /* since start: counts by status and by Prometheus bucket bound */
    uint64_t total, status[IX_ST_N];
    double sum_s;
    uint64_t *classic; /* counts per ix_req_classic_bounds (not cumulative) + Inf */
    /* since start, as a Prometheus native histogram of schema IX_REQ_NATIVE_SCHEMA
     * over seconds: populated buckets by ascending index, and the zero bucket */
    int32_t *native_idx;
    uint64_t *native_count;
    int nnative;
    uint64_t native_zero;
    /* requests per 10 s slot over the last 5 minutes, oldest first (sparklines) */
    uint32_t spark[30];
    int64_t spark_p95[30];
};

struct ix_req_snapshot {
    struct ix_req_route_view *routes;
    int n;
    uint64_t folded_routes; /* requests counted under "other" past the cap */
    int max_routes;
    int64_t now_ns;
};

/* Native histograms: each log-linear bucket's count goes to the schema-8
 * bucket (bounds 2^(1/256) = 0.27% apart, the finest schema) holding its
 * midpoint, the value the module reports for it. Log-linear midpoints are
 * at least 0.78% apart, so no two share a native bucket and the order is
 * kept: a quantile Prometheus computes falls in the native bucket holding
 * the module's own answer, within 0.27% of it (so within 0.79% + 0.27%
 * = 1.06% of the true value, not 1%). */
#define IX_REQ_NATIVE_SCHEMA 8
#define IX_REQ_NATIVE_ZERO_THRESHOLD 2.938735877055719e-39 /* 2^-128, as client_golang */

/* Prometheus classic bucket bounds (seconds). */
extern const double ix_req_classic_bounds[];
extern const int ix_req_nclassic;

int ix_requests_snapshot(struct ix_req_snapshot *s); /* 0 or INTROSPECT_ENOMEM */
void ix_requests_snapshot_free(struct ix_req_snapshot *s);
void ix_requests_json(const struct ix_req_snapshot *s, introspect_json *j);

/* ---- SLOs (requests/slo.c) ----
 * A spec: "PATTERN:latency<300ms@99.0" (99% of requests faster than 300 ms)
 * or "PATTERN:avail@99.9" (99.9% not 5xx); several separated by ';'.
 * PATTERN is a route, or ends with '*' for a prefix, or is '*' for all. */
enum ix_slo_kind { IX_SLO_LATENCY, IX_SLO_AVAIL };
struct ix_slo_def {
    char pattern[128];
    enum ix_slo_kind kind;
    int64_t threshold_ns; /* latency */
    double objective;     /* e.g. 0.999 */
    char name[200];       /* the spec as written, normalised */
};
/* Parse and add; returns 0, INTROSPECT_EINVAL (why says which part) or INTROSPECT_ELIMIT. */
int ix_slo_add_spec(const char *spec, char *why, size_t whylen);
int ix_slo_count(void);
const struct ix_slo_def *ix_slo_get(int i);
int ix_slo_matches(const struct ix_slo_def *d, const char *route);

/* Burn-rate windows of the SRE workbook's multi-window alerts. */
enum { IX_BW_5M, IX_BW_30M, IX_BW_1H, IX_BW_6H, IX_BW_N };
extern const char *const ix_slo_window_names[IX_BW_N];
struct ix_slo_view {
    const struct ix_slo_def *def;
    uint64_t total[IX_BW_N], bad[IX_BW_N];
    double burn[IX_BW_N];   /* (bad/total) / (1 - objective); 0 with no requests */
    double compliance_6h;   /* good/total over 6 h (1 with no requests) */
    double budget_left_6h;  /* 1 - bad / (allowed bad) over 6 h, may go negative */
    int fast_burn;          /* 1 h and 5 min above 14.4x: page */
    int slow_burn;          /* 6 h and 30 min above 6x: ticket */
    int routes;             /* routes matched */
};
/* One view per SLO (*out malloc'd); returns the count or INTROSPECT_ENOMEM. */
int ix_slo_evaluate(struct ix_slo_view **out);
void ix_slo_json(const struct ix_slo_view *v, int n, introspect_json *j);

/* Internal to the unit: SLO minute counts of the routes matching SLO i. */
void ix_requests_slo_counts(int slo, int64_t now_ns, const int64_t *win_ns, int nwin,
                            uint64_t *total, uint64_t *bad, int *routes);


/* Tests: replace the clock (CLOCK_MONOTONIC ns) windows are measured on; NULL restores. */
void ix_requests_set_clock(int64_t (*fn)(void));
int64_t ix_requests_now(void);
/* The same, given CLOCK_MONOTONIC now (saves a clock read with the real clock). */
int64_t ix_requests_now_from(int64_t mono_ns);

#endif
