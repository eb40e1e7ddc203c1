/* Who contributes to /metrics and /debug/vars. Each producer exposes small
 * collector functions; the tables in collectors.c list them, so adding a
 * producer is one line here and one there. */
#ifndef IX_COLLECTORS_H
#define IX_COLLECTORS_H

#include "util/json.h"
#include "model/metrics.h"

typedef void (*ix_metrics_collector)(struct ix_mset *set);

/* A top-level /debug/vars key whose value is written by fn (exactly one JSON value). */
struct ix_vars_section {
    const char *key;
    void (*fn)(introspect_json *j);
};

/* Parts of the "memstats" object: each writes key/value pairs into it. */
typedef void (*ix_memstats_part)(introspect_json *j);

extern const struct ix_vars_section ix_vars_sections[];
extern const size_t ix_nvars_sections;
extern const ix_memstats_part ix_memstats_parts[];
extern const size_t ix_nmemstats_parts;

/* Collectors provided by the producers. */
void ix_collect_process(struct ix_mset *set);
void ix_collect_cpu(struct ix_mset *set);
void ix_collect_symbols(struct ix_mset *set);
void ix_memstats_process(introspect_json *j);
void ix_memstats_heap(introspect_json *j);
void ix_collect_heap(struct ix_mset *set);
void ix_vars_cmdline(introspect_json *j);
void ix_collect_pools(struct ix_mset *set);
void ix_vars_pools(introspect_json *j);
void ix_collect_tasks(struct ix_mset *set);
void ix_vars_tasks(introspect_json *j);
void ix_collect_threads(struct ix_mset *set);
void ix_vars_threads(introspect_json *j);
void ix_collect_leaks(struct ix_mset *set);
void ix_collect_requests(struct ix_mset *set);
void ix_vars_requests(introspect_json *j);
void ix_vars_slo(introspect_json *j);

#endif
