#include "collectors.h"
#include "registry/registry.h"

/* /metrics: process figures first, then producers, then the application. */
static const ix_metrics_collector metrics_collectors[] = {
    ix_collect_process,
    ix_collect_cpu,
    ix_collect_symbols,
    ix_collect_pools,
    ix_collect_threads,
    ix_collect_tasks,
    ix_collect_heap,
    ix_collect_leaks,
    ix_collect_requests,
    ix_registry_collect, /* the application's metrics last */
};

void ix_metrics_collect(struct ix_mset *set)
{
    for (size_t i = 0; i < sizeof metrics_collectors / sizeof metrics_collectors[0]; i++)
        metrics_collectors[i](set);
}

/* /debug/vars top-level keys (sorted on output; published variables join them). */
const struct ix_vars_section ix_vars_sections[] = {
    {"cmdline", ix_vars_cmdline},
    {"metrics", ix_registry_json},
    {"pools", ix_vars_pools},
    {"requests", ix_vars_requests},
    {"slo", ix_vars_slo},
    {"tasks", ix_vars_tasks},
    {"threads", ix_vars_threads},
};
const size_t ix_nvars_sections = sizeof ix_vars_sections / sizeof ix_vars_sections[0];

const ix_memstats_part ix_memstats_parts[] = {
    ix_memstats_heap, /* Go's runtime.MemStats fields first */
    ix_memstats_process,
};
const size_t ix_nmemstats_parts = sizeof ix_memstats_parts / sizeof ix_memstats_parts[0];
