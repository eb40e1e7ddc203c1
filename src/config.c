#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sanitized.h"
#include "util/errno_text.h"

void introspect_config_init(introspect_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->addr = "127.0.0.1:6060";
    cfg->max_connections = 64;
    cfg->max_connections_per_ip = 16;
    cfg->connection_timeout_s = 30;
    cfg->max_profile_seconds = 300;
    cfg->max_profile_hz = 1000;
    cfg->cpu_signal = SIGPROF;
    cfg->cpu_engine = "auto";
    cfg->token = NULL;
    cfg->block_profile_rate = 10000;
    cfg->dump_signal = SIGRTMIN + 6;
    cfg->task_stack_every = 0;
    cfg->max_tasks = 65536;
    cfg->heap_rate = 524288;
    cfg->memtrace_seconds = 0;
    cfg->history_interval_s = 10;
    cfg->history_budget = 4UL << 20;
    cfg->leak_report = 0;
}

int ix_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *len, int *loopback)
{
    char host[128];
    const char *colon;
    if (!addr || !*addr)
        return INTROSPECT_EADDR;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof host)
            return INTROSPECT_EADDR;
        memcpy(host, addr + 1, (size_t)(rb - addr - 1));
        host[rb - addr - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host)
            return INTROSPECT_EADDR;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || errno || port < 0 || port > 65535)
        return INTROSPECT_EADDR;
    if (strcmp(host, "localhost") == 0 || host[0] == '\0')
        strcpy(host, "127.0.0.1"); /* an empty host means loopback, never all interfaces */
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    return INTROSPECT_EADDR;
}

/* A whole number in [0, max] from the environment; absent leaves *out. */
static int env_whole(const char *name, long long max, long long *out, char *why, size_t whylen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno || x < 0 || x > max) {
        snprintf(why, whylen, "%s=%s is not a whole number from 0 to %lld", name, v, max);
        return INTROSPECT_EINVAL;
    }
    *out = x;
    return 0;
}

static int env_unsigned(const char *name, unsigned *out, char *why, size_t whylen)
{
    long long x = *out;
    int rc = env_whole(name, 1000000, &x, why, whylen);
    *out = (unsigned)x;
    return rc;
}

static int env_int64(const char *name, int64_t *out, char *why, size_t whylen)
{
    long long x = *out;
    int rc = env_whole(name, INT64_MAX, &x, why, whylen);
    *out = x;
    return rc;
}

/* Byte counts may exceed env_unsigned's bound: up to 1 TiB. */
static int env_bytes(const char *name, unsigned long *out, char *why, size_t whylen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || x > (1ULL << 40) || v[0] == '-') {
        snprintf(why, whylen, "%s=%s is not a byte count (0..2^40)", name, v);
        return INTROSPECT_EINVAL;
    }
    *out = (unsigned long)x;
    return 0;
}

static int dup_field(char **dst, const char *src)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(src);
    return *dst ? 0 : INTROSPECT_ENOMEM;
}

static int apply_env(introspect_config *c, char *why, size_t whylen)
{
    const char *v;
    int rc = 0;
    if ((v = getenv("INTROSPECT_ADDR")) && *v)
        c->addr = v;
    if ((v = getenv("INTROSPECT_CPU_ENGINE")) && *v)
        c->cpu_engine = v;
    if ((v = getenv("INTROSPECT_TOKEN")) && *v)
        c->token = v;
    if ((v = getenv("INTROSPECT_TLS_CERT")) && *v)
        c->tls_cert_file = v;
    if ((v = getenv("INTROSPECT_TLS_KEY")) && *v)
        c->tls_key_file = v;
    if ((v = getenv("INTROSPECT_ALLOWED_HOSTS")) && *v)
        c->allowed_hosts = v;
    unsigned sig = (unsigned)c->cpu_signal;
    if ((rc = env_unsigned("INTROSPECT_MAX_CONNECTIONS", &c->max_connections, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_MAX_CONNECTIONS_PER_IP", &c->max_connections_per_ip, why,
                           whylen)) ||
        (rc = env_unsigned("INTROSPECT_TIMEOUT", &c->connection_timeout_s, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_MAX_SECONDS", &c->max_profile_seconds, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_MAX_HZ", &c->max_profile_hz, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_CPU_SIGNAL", &sig, why, whylen)) ||
        (rc = env_int64("INTROSPECT_BLOCK_RATE", &c->block_profile_rate, why, whylen)) ||
        (rc = env_bytes("INTROSPECT_HEAP_RATE", &c->heap_rate, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_MEMTRACE", &c->memtrace_seconds, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_HISTORY_INTERVAL", &c->history_interval_s, why, whylen)) ||
        (rc = env_bytes("INTROSPECT_HISTORY_BUDGET", &c->history_budget, why, whylen)))
        return rc;
    unsigned report = c->leak_report ? 1 : 0;
    if ((rc = env_unsigned("INTROSPECT_LEAK_REPORT", &report, why, whylen)))
        return rc;
    c->leak_report = report != 0;
    c->cpu_signal = (int)sig;
    /* 0 means the default, for callers that zero the struct. */
    if (c->dump_signal == 0)
        c->dump_signal = SIGRTMIN + 6;
    if (c->max_tasks == 0)
        c->max_tasks = 65536;
    unsigned dsig = (unsigned)c->dump_signal;
    if ((rc = env_unsigned("INTROSPECT_DUMP_SIGNAL", &dsig, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_TASK_STACKS", &c->task_stack_every, why, whylen)) ||
        (rc = env_unsigned("INTROSPECT_MAX_TASKS", &c->max_tasks, why, whylen)))
        return rc;
    c->dump_signal = (int)dsig;
    return 0;
}

static int validate(const introspect_config *c, char *why, size_t whylen)
{
    const char *e = c->cpu_engine ? c->cpu_engine : "auto";
    if (c->max_connections == 0 || c->max_connections > 10000)
        snprintf(why, whylen, "max_connections must be 1..10000");
    else if (c->max_connections_per_ip == 0 || c->max_connections_per_ip > c->max_connections)
        snprintf(why, whylen, "max_connections_per_ip must be 1..max_connections");
    else if (c->connection_timeout_s == 0 || c->connection_timeout_s > 3600)
        snprintf(why, whylen, "connection_timeout_s must be 1..3600");
    else if (c->max_profile_seconds == 0 || c->max_profile_seconds > 86400)
        snprintf(why, whylen, "max_profile_seconds must be 1..86400");
    else if (c->max_profile_hz == 0 || c->max_profile_hz > 10000)
        snprintf(why, whylen, "max_profile_hz must be 1..10000");
    else if (c->cpu_signal <= 0 || c->cpu_signal >= NSIG || c->cpu_signal == SIGKILL ||
             c->cpu_signal == SIGSTOP)
        snprintf(why, whylen, "cpu_signal %d is not a usable signal", c->cpu_signal);
    else if (c->block_profile_rate < 0)
        snprintf(why, whylen, "block_profile_rate must be >= 0 (ns; 0 = off)");
    else if (c->dump_signal <= 0 || c->dump_signal >= NSIG || c->dump_signal == SIGKILL ||
             c->dump_signal == SIGSTOP || c->dump_signal == c->cpu_signal ||
             (c->dump_signal > SIGSYS && c->dump_signal < SIGRTMIN))
        snprintf(why, whylen, "dump_signal %d is not usable (want SIGRTMIN..SIGRTMAX, %d..%d, "
                 "other than cpu_signal)", c->dump_signal, SIGRTMIN, SIGRTMAX);
    else if (c->max_tasks == 0 || c->max_tasks > 1000000)
        snprintf(why, whylen, "max_tasks must be 1..1000000");
    else if (c->heap_rate > (1UL << 40))
        snprintf(why, whylen, "heap_rate must be 0..2^40 bytes");
    else if (c->memtrace_seconds > 86400)
        snprintf(why, whylen, "memtrace_seconds must be 0..86400");
    else if (c->history_interval_s > 3600)
        snprintf(why, whylen, "history_interval_s must be 0..3600");
    else if (c->history_budget && c->history_budget < 64 * 1024)
        snprintf(why, whylen, "history_budget must be 0 (off) or at least 65536 bytes");
    else if (strcmp(e, "auto") && strcmp(e, "perf") && strcmp(e, "perf-signal") &&
             strcmp(e, "timer") && strcmp(e, "itimer"))
        snprintf(why, whylen,
                 "cpu_engine must be auto, perf, perf-signal, timer or itimer, not \"%s\"", e);
    else
        return 0;
    return INTROSPECT_EINVAL;
}

/* Read a whole PEM file (at most 1 MiB) so a bad path fails at start with
 * the file's name and errno, not as an opaque TLS handshake error later. */
static int read_pem(const char *field, const char *path, char **out, char *why, size_t whylen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(why, whylen, "cannot read %s %s: %s", field, path, ix_errno_text(errno));
        return INTROSPECT_EINVAL;
    }
    size_t cap = 1 << 20, n;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return INTROSPECT_ENOMEM;
    }
    n = fread(buf, 1, cap + 1, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err || n == 0 || n > cap || !strstr(buf, "-----BEGIN ")) {
        free(buf);
        snprintf(why, whylen, "%s %s: %s", field, path,
                 err ? ix_errno_text(err) : n > cap ? "larger than 1 MiB" : "not a PEM file");
        return INTROSPECT_EINVAL;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int load_tls(struct ix_config *out, const introspect_config *c, char *why, size_t whylen)
{
    int has_cert = c->tls_cert_file && *c->tls_cert_file;
    int has_key = c->tls_key_file && *c->tls_key_file;
    if (!has_cert && !has_key)
        return 0;
    if (!has_cert || !has_key) {
        snprintf(why, whylen, "TLS needs both tls_cert_file and tls_key_file "
                              "(INTROSPECT_TLS_CERT, INTROSPECT_TLS_KEY)");
        return INTROSPECT_EINVAL;
    }
    int rc = read_pem("tls_cert_file", c->tls_cert_file, &out->tls_cert, why, whylen);
    if (!rc)
        rc = read_pem("tls_key_file", c->tls_key_file, &out->tls_key, why, whylen);
    return rc;
}

int ix_config_load(struct ix_config *out, const introspect_config *cfg, char *why, size_t whylen)
{
    introspect_config c;
    if (cfg)
        c = *cfg;
    else
        introspect_config_init(&c);
    memset(out, 0, sizeof *out);
    int rc = apply_env(&c, why, whylen);
    if (!rc)
        rc = validate(&c, why, whylen);
    if (rc)
        return rc;
    rc = ix_parse_addr(c.addr, &out->sa, &out->salen, &out->loopback);
    if (rc) {
        snprintf(why, whylen, "cannot parse address \"%s\" (want host:port with a numeric host)",
                 c.addr ? c.addr : "");
        return rc;
    }
    if (!out->loopback && (!c.token || !*c.token)) {
        snprintf(why, whylen, "address %s is not loopback: set a token (INTROSPECT_TOKEN)", c.addr);
        return INTROSPECT_ETOKEN;
    }
    size_t tl = c.token ? strlen(c.token) : 0;
    if (tl && tl < IX_MIN_TOKEN_LEN) {
        if (!out->loopback) {
            snprintf(why, whylen, "the token is %zu bytes: a non-loopback address needs at least "
                     "%d (e.g. openssl rand -hex 32)", tl, IX_MIN_TOKEN_LEN);
            return INTROSPECT_ETOKEN;
        }
        fprintf(stderr, "introspect: warning: the token is %zu bytes, shorter than %d: easy to "
                "guess (e.g. openssl rand -hex 32)\n", tl, IX_MIN_TOKEN_LEN);
    }
    out->max_connections = c.max_connections;
    out->max_connections_per_ip = c.max_connections_per_ip;
    out->connection_timeout_s = c.connection_timeout_s;
    out->max_profile_seconds = c.max_profile_seconds;
    out->max_profile_hz = c.max_profile_hz;
    out->cpu_signal = c.cpu_signal;
    out->block_profile_rate = c.block_profile_rate;
    long long mutex_fraction = -1; /* absent: as set by introspect_set_mutex_profile_fraction */
    rc = env_whole("INTROSPECT_MUTEX_FRACTION", 1000000000, &mutex_fraction, why, whylen);
    if (rc)
        return rc;
    out->mutex_fraction = (int)mutex_fraction;
    out->dump_signal = c.dump_signal;
    out->task_stack_every = c.task_stack_every;
    out->max_tasks = c.max_tasks;
    out->heap_rate = c.heap_rate;
    out->memtrace_seconds = c.memtrace_seconds;
    out->history_interval_s = c.history_interval_s;
    out->history_budget = c.history_budget;
    out->leak_report = c.leak_report;
    const char *v = getenv("INTROSPECT_HEAP_UNWIND");
    if (v && *v && strcmp(v, "dwarf") && strcmp(v, "fp")) {
        snprintf(why, whylen, "INTROSPECT_HEAP_UNWIND must be fp or dwarf, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    out->heap_unwind_dwarf = v && strcmp(v, "dwarf") == 0;
    v = getenv("INTROSPECT_HEAP_REDIRECT");
    if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(why, whylen, "INTROSPECT_HEAP_REDIRECT must be 0 or 1, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    out->heap_no_redirect = v && strcmp(v, "0") == 0;
    /* ?interrupt=1 signals threads blocked in calls a signal ends with EINTR:
     * a request would change what the host's threads see. Off unless the
     * operator says so. */
    v = getenv("INTROSPECT_ALLOW_INTERRUPT");
    if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(why, whylen, "INTROSPECT_ALLOW_INTERRUPT must be 0 or 1, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    out->allow_interrupt = v && strcmp(v, "1") == 0;
    v = getenv("INTROSPECT_WALK_NONDUMPABLE");
    if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(why, whylen, "INTROSPECT_WALK_NONDUMPABLE must be 0 or 1, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    out->walk_nondumpable = v && strcmp(v, "1") == 0;
    v = getenv("INTROSPECT_FD_STACKS");
    if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(why, whylen, "INTROSPECT_FD_STACKS must be 0 or 1, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    out->fd_stacks = v && strcmp(v, "1") == 0;
    v = getenv("INTROSPECT_TREE");
    if (v && *v && strcmp(v, "0") && strcmp(v, "1")) {
        snprintf(why, whylen, "INTROSPECT_TREE must be 0 or 1, not \"%s\"", v);
        return INTROSPECT_EINVAL;
    }
    /* Sanitizer builds: off unless asked (LeakSanitizer runs at every forked
     * child's exit and reports the instance a child started as leaked). */
    out->tree = v && *v ? strcmp(v, "0") != 0 : !IX_SANITIZED_BUILD;
    long long delay = 100;
    rc = env_whole("INTROSPECT_TREE_DELAY_MS", 60000, &delay, why, whylen);
    if (rc)
        return rc;
    out->tree_delay_ms = (unsigned)delay;
    long long max_routes = 64;
    rc = env_whole("INTROSPECT_MAX_ROUTES", 1024, &max_routes, why, whylen);
    if (rc)
        return rc;
    if (max_routes == 0) {
        snprintf(why, whylen, "INTROSPECT_MAX_ROUTES must be 1..1024");
        return INTROSPECT_EINVAL;
    }
    out->max_routes = (unsigned)max_routes;
    v = getenv("INTROSPECT_SLO");
    if (v && *v && !(out->slo = strdup(v)))
        return INTROSPECT_ENOMEM;
    if (dup_field(&out->addr, c.addr) || dup_field(&out->cpu_engine, c.cpu_engine ? c.cpu_engine : "auto") ||
        dup_field(&out->token, c.token && *c.token ? c.token : NULL) ||
        dup_field(&out->allowed_hosts, c.allowed_hosts && *c.allowed_hosts ? c.allowed_hosts : NULL)) {
        ix_config_free(out);
        return INTROSPECT_ENOMEM;
    }
    rc = load_tls(out, &c, why, whylen);
    if (rc)
        ix_config_free(out);
    return rc;
}

void ix_config_free(struct ix_config *c)
{
    free(c->addr);
    free(c->cpu_engine);
    free(c->token);
    free(c->tls_cert);
    free(c->allowed_hosts);
    c->allowed_hosts = NULL;
    free(c->slo);
    c->slo = NULL;
    if (c->tls_key) /* a private key: do not leave it in freed memory */
        explicit_bzero(c->tls_key, strlen(c->tls_key));
    free(c->tls_key);
    c->addr = c->cpu_engine = c->token = c->tls_cert = c->tls_key = NULL;
}
