/*
 * introspect: look inside a running C server over HTTP.
 *
 *   introspect_start(NULL);   serve on 127.0.0.1:6060 (INTROSPECT_* env overrides)
 *   ...
 *   introspect_stop();
 *
 * Every function returns 0 (or a non-negative value) on success and a negative
 * INTROSPECT_E* code on failure; introspect_strerror() explains a code. No
 * function aborts the host. Handles are opaque and owned by the library.
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
    INTROSPECT_ETYPE = -16       /* operation does not fit the handle's type */
};

/* Configuration. Call introspect_config_init() first; every field has a default. */
typedef struct introspect_config {
    const char *addr;              /* "host:port"; default "127.0.0.1:6060"; port 0 = ephemeral */
    unsigned max_connections;      /* concurrent connections; default 64 */
    unsigned max_connections_per_ip; /* default 16 */
    unsigned connection_timeout_s; /* idle connection timeout; default 30 */
    unsigned max_profile_seconds;  /* upper bound for ?seconds=; default 300 */
    unsigned max_profile_hz;       /* upper bound for ?hz= on CPU profiles; default 1000 */
    int cpu_signal;                /* signal used for CPU samples; default SIGPROF */
    const char *cpu_engine;        /* "auto" (default), "perf", "timer", "itimer" */
    const char *token;             /* bearer token; NULL = none (loopback only) */
    const char *tls_cert_file;     /* PEM certificate (chain): serve HTTPS; NULL = plain HTTP */
    const char *tls_key_file;      /* PEM private key for tls_cert_file */
} introspect_config;

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

/* ---- Metrics registry (feeds /metrics and the "metrics" key of /debug/vars) ----
 * Metrics live for the life of the process, across start/stop. Label names are
 * fixed at creation; label values are given at each use, in the same order
 * (pass NULL when the metric has no labels). Updates of an existing series take
 * no lock; the first use of a new label combination allocates it once. */
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

/* ---- expvar-style published values (top-level keys of /debug/vars) ---- */
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

/* ---- Hardening ---- */
/* Why the last introspect_start() in this process failed, in one line (e.g.
 * "cannot read tls_key_file /etc/x.pem: Permission denied"); "" after a
 * successful start. The string stays valid until the next start. */
INTROSPECT_API const char *introspect_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* INTROSPECT_H */
