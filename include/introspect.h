/*
 * introspect: look inside a running C server over HTTP.
 *
 *   introspect_start(NULL);   serve on 127.0.0.1:6060 (INTROSPECT_* env overrides)
 *   ...
 *   introspect_stop();
 *
 * Status: every function that can fail returns 0 (or a non-negative value) on
 * success and a negative INTROSPECT_E* code on failure; introspect_strerror()
 * explains a code. The few that return void cannot fail: introspect_config_init,
 * introspect_pool_unregister (NULL is a no-op) and the introspect_json_*
 * writers (misuse is recorded in the writer, and the value is rendered as
 * null). Functions returning a string never return NULL. No function aborts
 * the host. Handles are opaque and owned by the library.
 *
 * Threads: unless its section says otherwise, every function may be called
 * from any thread, concurrently, before or after introspect_start(). None may
 * be called from a signal handler.
 */
#ifndef INTROSPECT_H
#define INTROSPECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define INTROSPECT_API __attribute__((visibility("default")))
#else
#define INTROSPECT_API
#endif

#define INTROSPECT_VERSION_MAJOR 0
#define INTROSPECT_VERSION_MINOR 1
#define INTROSPECT_VERSION_PATCH 0
#define INTROSPECT_VERSION_STRING "0.1.0"

/* Error codes. Only ever added, never renumbered. */
enum {
    INTROSPECT_OK = 0,
    INTROSPECT_EINVAL = -1,      /* invalid argument or configuration value */
    INTROSPECT_ENOMEM = -2,      /* out of memory */
    INTROSPECT_EADDR = -3,       /* address could not be parsed or resolved */
    INTROSPECT_EADDRINUSE = -4,  /* address already in use */
    INTROSPECT_EBIND = -5,       /* could not bind or listen (other reason) */
    INTROSPECT_EALREADY = -6,    /* already started */
    INTROSPECT_ENOTSTARTED = -7, /* not started */
    INTROSPECT_EEXIST = -8,      /* a metric or variable with that name exists */
    INTROSPECT_ENAME = -9,       /* invalid metric, label or variable name */
    INTROSPECT_ELABELS = -10,    /* wrong number of label values */
    INTROSPECT_ELIMIT = -11,     /* a configured limit was reached */
    INTROSPECT_EBUSY = -12,      /* the resource is in use by someone else */
    INTROSPECT_ESIGNAL = -13,    /* the profiling signal is owned by another handler */
    INTROSPECT_ESYS = -14,       /* a system call failed */
    INTROSPECT_ETOKEN = -15,     /* non-loopback address requires a token */
    INTROSPECT_ETYPE = -16,      /* operation does not fit the handle's type */
    INTROSPECT_ELIBRARY = -17    /* a runtime library (libmicrohttpd) could not be loaded */
};

/* Configuration. Call introspect_config_init() first; every field has a default. */
typedef struct introspect_config {
    const char *addr;              /* "host:port"; default "127.0.0.1:6060"; port 0 = ephemeral */
    unsigned max_connections;      /* concurrent connections; default 64 */
    unsigned max_connections_per_ip; /* default 16 */
    unsigned connection_timeout_s; /* idle connection timeout; default 30 */
    unsigned max_profile_seconds;  /* upper bound for ?seconds=; default 300 */
    unsigned max_profile_hz;       /* upper bound for ?hz= on CPU profiles; default 1000 */
    int cpu_signal;                /* signal of the signalled CPU engines; default SIGPROF */
    const char *cpu_engine;        /* "auto" (default), "perf", "perf-signal", "timer", "itimer" */
    const char *token;             /* bearer token; NULL = none (loopback only). At least
                                      16 bytes on a non-loopback address (start fails);
                                      shorter on loopback: a warning on stderr */
    int64_t block_profile_rate;    /* block profile: sample waits of d ns with probability
                                      d/rate; 1 = every wait, 0 = off; default 10000 */
    int dump_signal;               /* signal for thread dumps; default SIGRTMIN+6 */
    unsigned task_stack_every;     /* capture the begin stack of 1 task in N; 0 = never (default) */
    unsigned max_tasks;            /* live tasks tracked at most; default 65536 */
    unsigned long heap_rate;       /* heap sampling: mean bytes between samples; default
                                    * 524288; 0 = off (malloc calls then skip the
                                    * interposer, and Mallocs/Frees are not counted);
                                    * 1 = every allocation */
    unsigned memtrace_seconds;     /* print a memstats line to stderr every N s; 0 = off */
    const char *tls_cert_file;     /* PEM certificate (chain): serve HTTPS; NULL = plain HTTP */
    const char *tls_key_file;      /* PEM private key for tls_cert_file */
    const char *allowed_hosts;     /* on a loopback address, Host names answered besides
                                      loopback ones (comma-separated; "*" = any); default
                                      NULL. Other names get 421 (DNS rebinding) */
    unsigned history_interval_s;   /* leak sentinel: a snapshot every N s; default 10; 0 = off */
    unsigned long history_budget;  /* bytes the snapshot history may use; default 4 MiB; 0 = off */
    int leak_report;               /* 1: a stderr line when a new leak suspect appears; default 0 */
} introspect_config;

/* ---- Starting and stopping ----
 * introspect_start, introspect_stop and introspect_port serialise on one
 * lock: call them from any thread, but not from inside a var function
 * (introspect_var_func), which runs on a server thread that stop joins. */

/* Fill cfg with defaults (no environment applied). */
INTROSPECT_API void introspect_config_init(introspect_config *cfg);

/* Start the server. cfg may be NULL for defaults. INTROSPECT_* environment
 * variables override cfg. Returns 0, or a negative code (nothing is left running). */
INTROSPECT_API int introspect_start(const introspect_config *cfg);

/* Stop the server, join every thread and free what start allocated. Safe to
 * call when not started (returns INTROSPECT_ENOTSTARTED). */
INTROSPECT_API int introspect_stop(void);

/* The TCP port actually bound (useful with port 0), or a negative code. */
INTROSPECT_API int introspect_port(void);

/* A static, one-line English description of an error code. */
INTROSPECT_API const char *introspect_strerror(int code);

/* Run-time version, e.g. "0.1.0". */
INTROSPECT_API const char *introspect_version(void);

/* Why the last introspect_start() in this process failed, in one line (e.g.
 * "cannot read tls_key_file /etc/x.pem: Permission denied"); "" after a
 * successful start. The string stays valid until the next start. */
INTROSPECT_API const char *introspect_last_error(void);

/* ---- Metrics registry (feeds /metrics and the "metrics" key of /debug/vars) ----
 * Metrics live for the life of the process, across start/stop. Label names are
 * fixed at creation; label values are given at each use, in the same order
 * (pass NULL when the metric has no labels). Updates of an existing series take
 * no lock; the first use of a new label combination allocates it once.
 * Threads: any, concurrently (updates are atomic). */
typedef struct introspect_counter introspect_counter;
typedef struct introspect_gauge introspect_gauge;
typedef struct introspect_histogram introspect_histogram;

/* Create a counter; name must end in "_total" to pass promtool. */
INTROSPECT_API int introspect_counter_new(const char *name, const char *help,
                                          const char *const *label_names, size_t nlabels,
                                          introspect_counter **out);
/* Add delta (>= 0) to the series selected by label_values. */
INTROSPECT_API int introspect_counter_add(introspect_counter *c, const char *const *label_values,
                                          double delta);

INTROSPECT_API int introspect_gauge_new(const char *name, const char *help,
                                        const char *const *label_names, size_t nlabels,
                                        introspect_gauge **out);
INTROSPECT_API int introspect_gauge_set(introspect_gauge *g, const char *const *label_values,
                                        double value);
INTROSPECT_API int introspect_gauge_add(introspect_gauge *g, const char *const *label_values,
                                        double delta);

/* Create a histogram with strictly increasing upper bounds (the +Inf bucket is
 * implicit). bounds == NULL uses Prometheus' defaults (.005 ... 10). */
INTROSPECT_API int introspect_histogram_new(const char *name, const char *help,
                                            const char *const *label_names, size_t nlabels,
                                            const double *bounds, size_t nbounds,
                                            introspect_histogram **out);
INTROSPECT_API int introspect_histogram_observe(introspect_histogram *h,
                                                const char *const *label_values, double value);

/* ---- expvar-style published values (top-level keys of /debug/vars) ----
 * Threads: any, concurrently. A var function runs on a server thread while
 * /debug/vars is served; the introspect_json_* writers may be called only from
 * inside it, on the writer it was given. */
typedef struct introspect_var introspect_var;
typedef struct introspect_json introspect_json;

INTROSPECT_API int introspect_var_int(const char *name, introspect_var **out);
INTROSPECT_API int introspect_var_float(const char *name, introspect_var **out);
INTROSPECT_API int introspect_var_string(const char *name, introspect_var **out);
INTROSPECT_API int introspect_var_set_int(introspect_var *v, int64_t value);
INTROSPECT_API int introspect_var_add_int(introspect_var *v, int64_t delta);
INTROSPECT_API int introspect_var_set_float(introspect_var *v, double value);
INTROSPECT_API int introspect_var_add_float(introspect_var *v, double delta);
/* Copies s. */
INTROSPECT_API int introspect_var_set_string(introspect_var *v, const char *s);

/* A value computed at read time: fn writes exactly one JSON value into out
 * with the introspect_json_* functions. If it misuses the writer or returns a
 * negative code, the variable is rendered as null. fn runs on a server thread. */
typedef int (*introspect_var_fn)(introspect_json *out, void *arg);
INTROSPECT_API int introspect_var_func(const char *name, introspect_var_fn fn, void *arg,
                                       introspect_var **out);

INTROSPECT_API void introspect_json_object_begin(introspect_json *j);
INTROSPECT_API void introspect_json_object_end(introspect_json *j);
INTROSPECT_API void introspect_json_array_begin(introspect_json *j);
INTROSPECT_API void introspect_json_array_end(introspect_json *j);
/* Inside an object, each value is preceded by a key. */
INTROSPECT_API void introspect_json_key(introspect_json *j, const char *key);
INTROSPECT_API void introspect_json_int(introspect_json *j, int64_t v);
/* NaN and infinities are written as null (JSON has no spelling for them). */
INTROSPECT_API void introspect_json_float(introspect_json *j, double v);
INTROSPECT_API void introspect_json_string(introspect_json *j, const char *s);
INTROSPECT_API void introspect_json_bool(introspect_json *j, int v);
INTROSPECT_API void introspect_json_null(introspect_json *j);

/* ---- Connection pools (feed /debug/vars "pools", /metrics introspect_pool_*
 * and /debug/pprof/block) ----
 * Any pool (libpq, MySQL, Redis, HTTP clients) reports its events here. The
 * calls take no lock: a clock read and a few relaxed atomic adds, cheap enough
 * for every acquire (bench/README.md, pools). Only a sampled wait (see
 * introspect_block_profile_set_rate) records a stack, under a lock.
 * Threads: any, concurrently; one acquire's start and end may be on different
 * threads.
 *
 *   int64_t t = introspect_pool_acquire_start(pool);
 *   ...take a free connection, open one, or block until one is released...
 *   introspect_pool_acquire_end(pool, t, INTROSPECT_POOL_GOT,
 *                               blocked ? INTROSPECT_POOL_WAITED : INTROSPECT_POOL_NOWAIT);
 *   ...use it...
 *   introspect_pool_release(pool);
 *
 * "Had to wait" means what Go's database/sql means by WaitCount: the acquire
 * found no idle connection and no room to open one, and blocked until one was
 * released, it timed out or it was cancelled. The pool knows this and says so
 * (INTROSPECT_POOL_WAITED / INTROSPECT_POOL_NOWAIT). A pool that cannot tell
 * passes INTROSPECT_POOL_WAIT_AUTO: the acquire then counts as a wait when it
 * took at least the pool's wait threshold (default 100 us). A wait's duration
 * is the whole acquire, start to end. Waits (whatever their outcome) feed
 * WaitCount, WaitDuration, the wait histogram and the block profile. */
typedef struct introspect_pool introspect_pool;

/* How an acquire ended. */
enum {
    INTROSPECT_POOL_GOT = 0,       /* got a connection (it is now in use) */
    INTROSPECT_POOL_TIMEOUT = 1,   /* gave up after the caller's timeout */
    INTROSPECT_POOL_CANCELLED = 2, /* cancelled (caller gave up, pool closing) */
    INTROSPECT_POOL_FAILED = 3     /* error, e.g. a new connection could not be opened */
};

/* Whether an acquire had to wait (last argument of introspect_pool_acquire_end). */
enum {
    INTROSPECT_POOL_WAIT_AUTO = 0, /* unknown: decide by the wait threshold */
    INTROSPECT_POOL_WAITED = 1,    /* blocked: no idle connection, no room to open one */
    INTROSPECT_POOL_NOWAIT = 2     /* did not block */
};

/* Why a connection was closed (Go's DBStats names in brackets). */
enum {
    INTROSPECT_POOL_CLOSE_MAX_IDLE = 0,  /* more idle connections than allowed [MaxIdleClosed] */
    INTROSPECT_POOL_CLOSE_IDLE_TIME = 1, /* idle for too long [MaxIdleTimeClosed] */
    INTROSPECT_POOL_CLOSE_LIFETIME = 2,  /* reached its maximum lifetime [MaxLifetimeClosed] */
    INTROSPECT_POOL_CLOSE_ERROR = 3,     /* broken, or failed a health check */
    INTROSPECT_POOL_CLOSE_SHUTDOWN = 4   /* the pool itself was closed */
};
#define INTROSPECT_POOL_NCLOSE 5 /* number of INTROSPECT_POOL_CLOSE_* reasons */

/* Register a pool. name: 1..63 printable ASCII characters, unique among live
 * pools (INTROSPECT_EEXIST otherwise; a name unregistered earlier is reused and
 * its counters continue). max_open: the pool's size, 0 = unlimited. At most 64
 * pools (INTROSPECT_ELIMIT). The handle stays owned by the library. */
INTROSPECT_API int introspect_pool_register(const char *name, int64_t max_open,
                                            introspect_pool **out);
/* Stop reporting the pool; the handle must not be used afterwards. NULL is a no-op. */
INTROSPECT_API void introspect_pool_unregister(introspect_pool *pool);
/* Change the pool's maximum size (0 = unlimited). */
INTROSPECT_API int introspect_pool_set_max(introspect_pool *pool, int64_t max_open);
/* Threshold for INTROSPECT_POOL_WAIT_AUTO, in nanoseconds (default 100000). */
INTROSPECT_API int introspect_pool_set_wait_threshold(introspect_pool *pool, int64_t ns);

/* Mark the start of an acquire. Returns a token (a monotonic timestamp, > 0)
 * to pass to introspect_pool_acquire_end, or a negative code. */
INTROSPECT_API int64_t introspect_pool_acquire_start(introspect_pool *pool);
/* Mark the end of the acquire begun at token, with its outcome
 * (INTROSPECT_POOL_GOT ...) and whether it waited (INTROSPECT_POOL_WAITED ...). */
INTROSPECT_API int introspect_pool_acquire_end(introspect_pool *pool, int64_t token, int outcome,
                                               int waited);
/* A connection obtained with INTROSPECT_POOL_GOT went back to the pool (or was
 * discarded: report that with introspect_pool_conn_closed as well). Call it
 * before the connection can reach another caller, so that in-use never reads
 * above the pool's size. */
INTROSPECT_API int introspect_pool_release(introspect_pool *pool);
/* A new connection was opened. */
INTROSPECT_API int introspect_pool_conn_opened(introspect_pool *pool);
/* A connection was closed, for reason INTROSPECT_POOL_CLOSE_*. */
INTROSPECT_API int introspect_pool_conn_closed(introspect_pool *pool, int reason);

/* A pool's figures, as /debug/vars shows them (Go's db.Stats()). */
typedef struct introspect_pool_stats {
    int64_t max_open;       /* 0 = unlimited */
    int64_t open;           /* connections open now (in use + idle) */
    int64_t in_use;         /* handed out now */
    int64_t idle;           /* open - in_use */
    int64_t pending;        /* acquires started and not yet ended */
    int64_t in_use_peak;    /* highest in_use seen */
    uint64_t acquires;      /* acquires ended, any outcome */
    uint64_t waits;         /* acquires that had to wait */
    uint64_t wait_ns;       /* total duration of those waits */
    uint64_t timeouts, cancelled, failed;
    uint64_t opened;        /* connections opened */
    uint64_t closed[INTROSPECT_POOL_NCLOSE]; /* connections closed, by INTROSPECT_POOL_CLOSE_* */
} introspect_pool_stats;

/* Copy the pool's current figures into out. */
INTROSPECT_API int introspect_pool_stats_get(introspect_pool *pool, introspect_pool_stats *out);

/* Block profile sampling (/debug/pprof/block), as Go's runtime.SetBlockProfileRate:
 * a wait of d ns is recorded with probability d / rate (always when d >= rate),
 * and short waits are scaled up so totals stay unbiased. 1 records every wait,
 * 0 turns the profile off. Default 10000 (10 us); the config field
 * block_profile_rate and INTROSPECT_BLOCK_RATE set it at start. Returns the
 * previous rate, or a negative code. Any thread. */
INTROSPECT_API int64_t introspect_block_profile_set_rate(int64_t rate_ns);
/* Deprecated: the earlier name of introspect_block_profile_set_rate (same
 * function, kept for source and binary compatibility). */
INTROSPECT_API int64_t introspect_set_block_profile_rate(int64_t rate_ns);
/* Mutex profile sampling (/debug/pprof/mutex), as Go's runtime.SetMutexProfileFraction:
 * 1 in `fraction` contended pthread_mutex / pthread_rwlock waits is recorded, with the
 * stack that unlocked (the holder that made others wait), scaled by fraction. 0 turns
 * it off (the default, as Go); INTROSPECT_MUTEX_FRACTION sets it at start. Works when
 * the library's lock interposers are in effect (linked or preloaded). Returns the
 * previous fraction, or INTROSPECT_EINVAL for a negative one. */
INTROSPECT_API int introspect_set_mutex_profile_fraction(int fraction);
/* ---- Tasks: the application's units of work (requests, jobs, connections) ----
 * A task is begun with a kind (a small fixed set: "http", "job" ...; copied
 * and interned, at most 64 kinds), a name (copied, truncated to 63 bytes) and
 * an optional deadline, and ended when the work is done. Live tasks are
 * listed oldest first by /debug/pprof/tasks; counts by kind and state go to
 * /metrics and the "tasks" key of /debug/vars. Begin and end take no lock.
 * The registry lives for the whole process: tasks may be begun before
 * introspect_start(). A handle is invalid after introspect_task_end();
 * using it then returns INTROSPECT_EINVAL (it is never dereferenced).
 * Threads: any, concurrently; a task may be begun, updated and ended on
 * different threads (introspect_task_bind_thread says which runs it). */
typedef struct introspect_task introspect_task;

/* Begin a task. timeout_ns > 0 sets a deadline that long from now, 0 = none.
 * Returns 0, or INTROSPECT_ELIMIT when max_tasks are live (the begin is
 * counted as dropped and *out is set to NULL; the other task functions
 * accept NULL and do nothing, so callers need no special case). */
INTROSPECT_API int introspect_task_begin(const char *kind, const char *name, int64_t timeout_ns,
                                         introspect_task **out);
/* Set an absolute deadline on CLOCK_MONOTONIC (nanoseconds); 0 clears it. */
INTROSPECT_API int introspect_task_set_deadline(introspect_task *t, int64_t deadline_mono_ns);
/* Set the task's state text (interned like kinds: use a small fixed set of
 * strings such as "reading", "querying db"; at most 256 distinct texts,
 * further ones show as "other"). NULL clears it. */
INTROSPECT_API int introspect_task_set_state(introspect_task *t, const char *state);
/* Say the calling thread now runs the task (shown with its tid); or, with
 * bind = 0, that no thread runs it right now (e.g. parked on an event loop). */
INTROSPECT_API int introspect_task_bind_thread(introspect_task *t, int bind);
/* End the task. Returns 0, or INTROSPECT_EINVAL if it already ended. */
INTROSPECT_API int introspect_task_end(introspect_task *t);

/* ---- Requests by route: latency percentiles, status classes, SLOs ----
 * One call at each end of a request. Per route (and method): latency
 * percentiles P50/P90/P95/P99/max over sliding 1 min, 5 min and 1 h windows
 * (log-linear buckets: within 0.79% of the true value), counts by status
 * class and the error ratio (5xx), served by /debug/requests, /debug/vars
 * ("requests"), /metrics (introspect_request_duration_seconds) and the UI.
 * Each request is also a task of kind "request" (/debug/pprof/tasks) and
 * sets the label route=ROUTE on the calling thread while it runs (see
 * introspect_labels_push), so profiles can be split by route.
 * Routes are interned: use route templates ("/users/:id"), not raw paths.
 * At most INTROSPECT_MAX_ROUTES (default 64) distinct (route, method) pairs;
 * later ones are counted under the route "other".
 * Begin and end take no lock (except once per 10 s per route) and do not
 * allocate after a route's first request. Threads: any; a request may end
 * on another thread than the one that began it. */
typedef struct introspect_request {
    /* Private: written by introspect_request_begin, read by _end. */
    void *route_;
    introspect_task *task_;
    int64_t begin_ns_;
    uint32_t labels_, prev_labels_;
} introspect_request;

/* Begin a request on route (copied; at most 127 bytes are kept) with an
 * optional method (NULL or "GET" ...) and timeout (0 = no deadline) into
 * caller-owned storage r. Returns 0, INTROSPECT_EINVAL (NULL r or route) or
 * INTROSPECT_ENOMEM. */
INTROSPECT_API int introspect_request_begin(introspect_request *r, const char *route,
                                            const char *method, int64_t timeout_ns);
/* End it with its status code (HTTP-style: 5xx counts as an error).
 * Returns 0, or INTROSPECT_EINVAL when r is not begun (or already ended). */
INTROSPECT_API int introspect_request_end(introspect_request *r, int status);
/* The task behind a begun request (to set its state, e.g. "querying db"), or
 * NULL (not begun, ended, or max_tasks live). Valid until the request ends. */
INTROSPECT_API introspect_task *introspect_request_task(const introspect_request *r);
/* Record a request measured by the caller (duration in ns), e.g. from an
 * access log or a proxy. Returns 0 or INTROSPECT_EINVAL. */
INTROSPECT_API int introspect_request_observe(const char *route, const char *method, int status,
                                              int64_t duration_ns);
/* Declare service-level objectives (also INTROSPECT_SLO at start), ';'-separated:
 *   "/api*:latency<300ms@99"   99% of requests on routes starting with /api
 *                              take less than 300 ms;
 *   "/api/pay:avail@99.9"      99.9% of requests on /api/pay are not 5xx.
 * A pattern is a route, a prefix ending in '*', or '*'. /debug/slo shows
 * compliance, budget left and burn-rate alerts. Returns 0, INTROSPECT_EINVAL
 * (malformed) or INTROSPECT_ELIMIT (more than 16 SLOs). */
INTROSPECT_API int introspect_slo_add(const char *spec);

/* ---- Labels on samples (as Go's pprof.Do) ----
 * Key/value labels of the calling thread, recorded in the CPU, heap, allocs,
 * off-CPU, block (pool waits) and mutex (the waiter's) samples it produces; pprof shows them as sample labels
 * (go tool pprof -tags, -tagfocus route=/api/x). Keys and values are copied
 * and interned: use a bounded set (at most 4 pairs per thread, 4096
 * distinct sets per process; past that the change is refused with
 * INTROSPECT_ELIMIT). Threads: each call affects the calling thread only. */
/* Set key to value on the current labels (value NULL removes key). */
INTROSPECT_API int introspect_labels_set(const char *key, const char *value);
/* Save the current labels and set key to value; introspect_labels_pop
 * restores them. Nesting up to 16 deep (INTROSPECT_ELIMIT past that). */
INTROSPECT_API int introspect_labels_push(const char *key, const char *value);
/* Restore the labels saved by the last push; INTROSPECT_EINVAL if none. */
INTROSPECT_API int introspect_labels_pop(void);
/* Drop every label of the calling thread and the push stack. */
INTROSPECT_API int introspect_labels_clear(void);

/* ---- Utilities ---- */
/* CLOCK_MONOTONIC now, in nanoseconds (the clock task deadlines are on).
 * Any thread; async-signal-safe. */
INTROSPECT_API int64_t introspect_monotonic_ns(void);

#ifdef __cplusplus
}
#endif
#endif /* INTROSPECT_H */
