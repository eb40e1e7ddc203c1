/* The metrics model: a snapshot of metric families with labelled series,
 * built fresh for each scrape by the collectors (process figures, the app's
 * registry, samplers, tasks, pools) and read by the Prometheus/OpenMetrics
 * and JSON encoders. Strings passed in are copied. */
#ifndef IX_METRICS_H
#define IX_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum ix_mtype { IX_COUNTER, IX_GAUGE, IX_HISTOGRAM };

struct ix_mseries {
    const char **label_names;
    const char **label_values;
    int nlabels;
    double value; /* counter, gauge */
    /* histogram: counts per bucket (not cumulative), nbounds + 1 with +Inf */
    const double *bounds;
    uint64_t *counts;
    size_t nbounds;
    double sum;
    /* histogram, optionally also native (Prometheus' sparse histogram,
     * exposed in the protobuf format only): bucket i of schema s covers
     * (2^((i-1)/2^s), 2^(i/2^s)]; populated buckets by ascending index */
    int native;
    int schema;
    double zero_threshold;
    uint64_t zero_count;
    const int32_t *nidx;
    const uint64_t *ncount;
    size_t nn;
};

struct ix_mfamily {
    const char *name; /* counters include the "_total" suffix */
    const char *help;
    enum ix_mtype type;
    struct ix_mseries *series;
    size_t n, cap;
};

struct ix_mset {
    struct ix_mfamily *fams;
    size_t n, cap;
    struct ix_arena_block *arena;
    int oom;
};

void ix_mset_init(struct ix_mset *s);
void ix_mset_free(struct ix_mset *s);
/* Start a family (NULL on OOM; later calls with NULL are no-ops). */
struct ix_mfamily *ix_mset_family(struct ix_mset *s, const char *name, const char *help,
                                  enum ix_mtype type);
void ix_mset_value(struct ix_mset *s, struct ix_mfamily *f, const char *const *names,
                   const char *const *values, int nlabels, double v);
/* Shorthands: no label, one label. */
void ix_mset_value0(struct ix_mset *s, struct ix_mfamily *f, double v);
void ix_mset_value1(struct ix_mset *s, struct ix_mfamily *f, const char *name, const char *value,
                    double v);
void ix_mset_histogram(struct ix_mset *s, struct ix_mfamily *f, const char *const *names,
                       const char *const *values, int nlabels, const double *bounds,
                       const uint64_t *counts, size_t nbounds, double sum);

/* Give the histogram series just added to f a native form: schema, zero
 * bucket, and n populated buckets (idx ascending, their counts). */
void ix_mset_native(struct ix_mset *s, struct ix_mfamily *f, int schema, double zero_threshold,
                    uint64_t zero_count, const int32_t *idx, const uint64_t *counts, size_t n);
/* The native bucket of schema (-4..8) that holds v > 0. */
int32_t ix_native_index(double v, int schema);

/* Fill s from every collector (see collectors.c). */
void ix_metrics_collect(struct ix_mset *s);

#endif
