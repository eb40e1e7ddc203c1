/* The route table. Order matters only for '*' prefixes (first match wins). */
#include "endpoints/endpoints.h"

const struct ix_route ix_routes[] = {
    {"/debug/pprof/", IX_GET, ix_ep_index, NULL, 0},
    {"/debug/pprof", IX_GET, ix_ep_index, NULL, 0},
    {"/debug/pprof/cmdline", IX_GET, ix_ep_cmdline,
     "The command line of the process, NUL-separated", 1},
    {"/debug/pprof/profile", IX_GET, ix_ep_profile,
     "CPU profile of every thread (seconds=30, hz=100); pprof, debug=1, format=json|folded", 0},
    {"/debug/vars", IX_GET, ix_ep_vars,
     "expvar-style JSON: cmdline, memstats, metrics and published variables", 1},
    {"/metrics", IX_GET, ix_ep_metrics,
     "Prometheus text format 0.0.4 (OpenMetrics 1.0 when the Accept header asks)", 0},
    /* ui: the flame-graph page (exact paths first, then its assets) */
    {"/debug/pprof/ui/", IX_GET, ix_ep_ui,
     "Flame graphs in the browser: capture, search, zoom, diff, threads, tasks, metrics", 0},
    {"/debug/pprof/ui", IX_GET, ix_ep_ui, NULL, 0},
    {"/debug/pprof/ui/*", IX_GET, ix_ep_ui, NULL, 0},
    {"/debug/pprof/heap", IX_GET, ix_ep_heap,
     "Sampled live heap by allocation stack; ?seconds=N for a delta, ?debug=1 for text", 0},
    {"/debug/pprof/allocs", IX_GET, ix_ep_allocs,
     "Sampled allocations since start (alloc_space by default); ?seconds=N for a delta", 0},
    {"/debug/pprof/symbol", IX_GET | IX_POST, ix_ep_symbol,
     "Function names of program counters (GET ?0xADDR+0xADDR or POST), for pprof", 0},
    {"/debug/pprof/block", IX_GET, ix_ep_block,
     "Where the application waited on instrumented pools, by stack; ?seconds=N for a delta", 0},
    {"/debug/pprof/mutex", IX_GET, ix_ep_mutex,
     "Holders of contended pthread mutexes and rwlocks, by the stack that unlocked "
     "(INTROSPECT_MUTEX_FRACTION); ?seconds=N for a delta", 0},
    {"/debug/pprof/offcpu", IX_GET, ix_ep_offcpu,
     "Where threads were blocked and for how long, by stack and thread (seconds=30, hz=100): "
     "contentions, delay", 0},
    {"/debug/pprof/wall", IX_GET, ix_ep_wall,
     "Wall-clock time of every thread, on and off the CPU, labelled by state and idle "
     "(seconds=30, hz=100)", 0},
    {"/debug/pprof/trace", IX_GET, ix_ep_trace,
     "Execution trace of every thread (seconds=1, hz=1000): tasks, pool and mutex waits, "
     "running/blocked intervals with stacks, counters; Chrome trace-event JSON (Perfetto)", 0},
    {"/debug/pprof/threads", IX_GET, ix_ep_threads,
     "Stacks of all threads with name, state, wchan, syscall and CPU (debug=1 grouped, "
     "debug=2 full dump, format=json)", 0},
    {"/debug/pprof/goroutine", IX_GET, ix_ep_threads,
     "Alias of /debug/pprof/threads (the path Go tools and scrapers expect)", 0},
    {"/debug/pprof/leaks", IX_GET, ix_ep_leaks,
     "What grows steadily (heap stacks, threads, tasks, descriptors), ranked by steadiness; "
     "?window=30m, format=json|pprof", 0},
    {"/debug/pprof/threadcreate", IX_GET, ix_ep_threadcreate,
     "Stacks that created threads (pthread_create)", 0},
    {"/debug/pprof/processes", IX_GET, ix_ep_processes,
     "Processes of a pre-forking server's tree (pid, ppid, start, role); any endpoint takes "
     "?pid=N, profiles of a tree are merged with a pid label (format=json|text|http_sd)", 1},
    {"/debug/pprof/tasks", IX_GET, ix_ep_tasks,
     "Live application tasks, oldest first: age, state, deadline, thread, birth stack "
     "(format=json)", 1}, /* task names and states come from the application */
    {"/debug/requests", IX_GET, ix_ep_requests,
     "Requests by route: P50/P90/P95/P99/max over 1m, 5m, 1h, status classes, error ratio "
     "(format=json)", 1}, /* route names come from the application */
    {"/debug/slo", IX_GET, ix_ep_slo,
     "Service-level objectives: compliance, budget left, multi-window burn-rate alerts "
     "(format=json)", 1},
};
const size_t ix_nroutes = sizeof ix_routes / sizeof ix_routes[0];
