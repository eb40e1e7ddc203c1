/* A route's statistics and the table of routes (requests/routes.c). */
#ifndef IX_ROUTES_H
#define IX_ROUTES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "labels/labels.h"
#include "requests/requests.h"

#define IX_FAST_N 31 /* 10 s slots: 5 min and the current one */
#define IX_SLOW_STEP_NS (300 * 1000000000LL)
#define IX_SLOW_N 13 /* 5 min slots: 1 h and the current one */
#define IX_MIN_STEP_NS (60 * 1000000000LL)
#define IX_MIN_N 361 /* 1 min SLO slots: 6 h and the current one */

struct ix_fast_slot {
    _Atomic int64_t epoch; /* now / 10 s; -1 unused */
    _Atomic int folded;
    _Atomic uint64_t status[IX_ST_N];
    _Atomic uint64_t sum_ns;
    _Atomic int64_t max_ns;
    _Atomic uint32_t b[IX_REQ_NBUCKETS];
};

/* Written under the route's lock only. */
struct ix_slow_slot {
    int64_t epoch;
    uint64_t status[IX_ST_N];
    uint64_t sum_ns;
    int64_t max_ns;
    uint32_t b[IX_REQ_NBUCKETS];
};

struct ix_min_slot {
    int64_t epoch;
    uint64_t total;
    uint64_t bad[IX_SLO_PER_ROUTE];
};

struct ix_route_stats {
    char route[128];
    char method[16];
    uint64_t hash;
    uint32_t labels; /* the label set {route} */
    _Atomic uint64_t merged; /* cache: base set << 32 | base with route */
    int is_other;
    pthread_mutex_t lock; /* rolls, folds and readers */
    /* SLOs this route feeds (set under lock) */
    int nslos;
    int slo_index[IX_SLO_PER_ROUTE];
    int slo_kind[IX_SLO_PER_ROUTE];
    int64_t slo_threshold[IX_SLO_PER_ROUTE];
    /* totals of folded slots */
    uint64_t total_status[IX_ST_N];
    uint64_t total_sum_ns;
    uint64_t total_b[IX_REQ_NBUCKETS];
    struct ix_fast_slot fast[IX_FAST_N];
    struct ix_slow_slot slow[IX_SLOW_N];
    struct ix_min_slot mins[IX_MIN_N];
};

struct ix_route_stats *ix_route_get(const char *method, const char *route);
void ix_route_record(struct ix_route_stats *r, int64_t dur_ns, int status, int64_t now_ns);
/* Fold every slot older than epoch (caller holds r->lock). */
void ix_route_fold_due(struct ix_route_stats *r, int64_t epoch);
int ix_routes_count(void);
struct ix_route_stats *ix_route_at(int i);
struct ix_route_stats *ix_route_other(void);
/* The set base + {route}: cached for the last base seen on this route. */
uint32_t ix_route_labels(struct ix_route_stats *r, uint32_t base);
void ix_routes_set_max(unsigned n);
int ix_routes_max(void);
uint64_t ix_routes_folded(void);
int ix_status_class(int status);
/* (Re)compute which SLOs r feeds (takes r->lock). */
void ix_routes_match_slos(struct ix_route_stats *r);

#endif
