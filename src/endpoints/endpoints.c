/* The route table. Order matters only for '*' prefixes (first match wins). */
#include "endpoints/endpoints.h"

const struct ix_route ix_routes[] = {
    {"/debug/pprof/", IX_GET, ix_ep_index, NULL, 0},
    {"/debug/pprof", IX_GET, ix_ep_index, NULL, 0},
    {"/debug/pprof/cmdline", IX_GET, ix_ep_cmdline,
     "The command line of the process, NUL-separated", 1},
    {"/debug/vars", IX_GET, ix_ep_vars,
     "expvar-style JSON: cmdline, memstats, metrics and published variables", 1},
    {"/metrics", IX_GET, ix_ep_metrics,
     "Prometheus text format 0.0.4 (OpenMetrics 1.0 when the Accept header asks)", 0},
    /* ui: the flame-graph page (exact paths first, then its assets) */
    {"/debug/pprof/ui/", IX_GET, ix_ep_ui,
     "Flame graphs in the browser: capture, search, zoom, diff, threads, tasks, metrics", 0},
    {"/debug/pprof/ui", IX_GET, ix_ep_ui, NULL, 0},
    {"/debug/pprof/ui/*", IX_GET, ix_ep_ui, NULL, 0},
    {"/debug/pprof/symbol", IX_GET | IX_POST, ix_ep_symbol,
     "Function names of program counters (GET ?0xADDR+0xADDR or POST), for pprof", 0},
};
const size_t ix_nroutes = sizeof ix_routes / sizeof ix_routes[0];
