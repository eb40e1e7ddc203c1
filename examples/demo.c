/* introspect demo server. See demo.h.
 *
 *   introspect-demo [--listen HOST:PORT] [--traffic RPS] [--no-traffic] [--dsn CONNINFO]
 *
 * The module listens on INTROSPECT_ADDR (default 127.0.0.1:6060). */
#include <arpa/inet.h>
#include <errno.h>
#include <introspect.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

static const struct demo_route *const route_tables[] = {
    demo_core_routes,
    demo_db_routes,
    demo_task_routes,
};

static introspect_counter *m_requests;
static introspect_histogram *m_latency;
static introspect_var *v_inflight;
static atomic_int g_quit; /* set by main on SIGINT/SIGTERM; the traffic thread stops */

long demo_arg_long(const struct demo_request *req, const char *name, long def, long lo, long hi)
{
    const char *v = req->arg(req, name);
    if (!v)
        return def;
    long x = strtol(v, NULL, 10);
    return x < lo ? lo : x > hi ? hi : x;
}

void demo_reply_text(struct demo_reply *rep, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->body, sizeof rep->body, fmt, ap);
    va_end(ap);
    rep->status = status;
}

static const struct demo_route *find_route(const char *path)
{
    for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++)
        for (const struct demo_route *r = route_tables[t]; r->path; r++)
            if (strcmp(r->path, path) == 0)
                return r;
    return NULL;
}

static const char *mhd_arg(const struct demo_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static __thread introspect_request *t_request;
introspect_request *demo_current_request(void) { return t_request; }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record what on-call engineers watch: per-route latency and status class. */
static void record(const char *route, int status, double seconds)
{
    char cls[4] = {(char)('0' + status / 100), 'x', 'x', '\0'};
    const char *labels[2] = {route, cls};
    introspect_counter_add(m_requests, labels, 1);
    introspect_histogram_observe(m_latency, &route, seconds);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls; (void)version; (void)data; (void)size; (void)con_cls;
    double t0 = now_seconds();
    introspect_var_add_int(v_inflight, 1);
    struct demo_request req = {url, mhd_arg, c};
    static __thread struct demo_reply rep;
    const struct demo_route *r = find_route(url);
    /* One call at each end: per-route percentiles, status classes and SLOs
     * (/debug/requests, /debug/slo), a task with a deadline
     * (/debug/pprof/tasks), and the label route=... on every CPU and heap
     * sample taken meanwhile (go tool pprof -tagfocus route=/work). */
    introspect_request ireq;
    introspect_request_begin(&ireq, r ? r->path : "other", method, demo_request_deadline_ns());
    t_request = &ireq;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        demo_reply_text(&rep, 405, "method not allowed\n");
    else if (!r)
        demo_reply_text(&rep, 404, "no such page: %s\n", url);
    else
        r->handler(&req, &rep);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(rep.body), rep.body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rep.status, resp);
    MHD_destroy_response(resp);
    introspect_var_add_int(v_inflight, -1);
    introspect_request_end(&ireq, rep.status);
    t_request = NULL;
    record(r ? r->path : "other", rep.status, now_seconds() - t0);
    return ret;
}

static int setup_metrics(void)
{
    static const char *const req_labels[] = {"route", "code"};
    static const char *const lat_labels[] = {"route"};
    static const double bounds[] = {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5};
    int rc;
    if ((rc = introspect_counter_new("demo_http_requests_total",
                                     "HTTP requests served, by route and status class.",
                                     req_labels, 2, &m_requests)) ||
        (rc = introspect_histogram_new("demo_http_request_duration_seconds",
                                       "Time to serve an HTTP request, by route.", lat_labels, 1,
                                       bounds, sizeof bounds / sizeof bounds[0], &m_latency)) ||
        (rc = introspect_var_int("demo_requests_inflight", &v_inflight)))
        fprintf(stderr, "demo: metrics: %s\n", introspect_strerror(rc));
    return rc;
}

/* ---- built-in traffic, so there is something to look at ---- */

struct traffic {
    int port;
    int rps;
};

static void fetch(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        char req[256], buf[4096];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
        if (write(fd, req, (size_t)n) == n)
            while (read(fd, buf, sizeof buf) > 0)
                ;
    }
    close(fd);
}

static void *traffic_main(void *arg)
{
    const struct traffic *t = arg;
    static const char *const mix[] = {"/", "/", "/", "/work?ms=15", "/work?ms=15", "/work?ms=40",
                                      "/slow?ms=50", "/error", "/missing", "/", "/db?ms=20"};
    unsigned seed = (unsigned)time(NULL);
    while (!g_quit) {
        fetch(t->port, mix[rand_r(&seed) % (sizeof mix / sizeof mix[0])]);
        struct timespec ts = {0, 1000000000L / t->rps};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)atoi(colon + 1));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void print_urls(int app_port)
{
    int port = introspect_port();
    printf("introspect demo running (pid %d)\n", (int)getpid());
    printf("  demo app:        http://127.0.0.1:%d/   (/work, /slow, /error)\n", app_port);
    printf("  flame graphs:    http://127.0.0.1:%d/debug/pprof/ui/   (Requests tab; Profiles: split by route)\n", port);
    printf("  requests:        http://127.0.0.1:%d/debug/requests   (P50..P99 by route)\n", port);
    printf("  SLOs:            http://127.0.0.1:%d/debug/slo\n", port);
    printf("  profiles index:  http://127.0.0.1:%d/debug/pprof/\n", port);
    printf("  metrics:         http://127.0.0.1:%d/metrics\n", port);
    printf("  expvar:          http://127.0.0.1:%d/debug/vars\n", port);
    printf("  threads:         http://127.0.0.1:%d/debug/pprof/threads?debug=2\n", port);
    printf("  tasks:           http://127.0.0.1:%d/debug/pprof/tasks   (try /leak, /stuck)\n", port);
    printf("  CPU profile:     go tool pprof -top 'http://127.0.0.1:%d/debug/pprof/profile?seconds=5'\n", port);
    printf("  CPU by route:    go tool pprof -tags 'http://127.0.0.1:%d/debug/pprof/profile?seconds=5'\n", port);
    printf("Ctrl-C stops it.\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *listen_addr = "127.0.0.1:8080";
    const char *dsn = NULL;
    struct traffic traffic = {0, 20};
    /* SIGINT and SIGTERM stay blocked in every thread and main takes them with
     * sigwait: a handler can run on any thread that does not block the signal,
     * and main, asleep in pause(), would then never wake. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_addr = argv[++i];
        else if (strcmp(argv[i], "--traffic") == 0 && i + 1 < argc)
            traffic.rps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-traffic") == 0)
            traffic.rps = 0;
        else if (strcmp(argv[i], "--dsn") == 0 && i + 1 < argc)
            dsn = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--listen HOST:PORT] [--traffic RPS] [--no-traffic] [--dsn CONNINFO]\n", argv[0]);
            return 2;
        }
    }
    if (traffic.rps < 0 || traffic.rps > 1000)
        traffic.rps = 20;
    demo_tasks_init();
    /* The demo's own live heap is about 0.5 MB: at the default rate (512 KiB)
     * its heap profile would rest on one sample. 512 bytes gives about 45 live
     * samples, a total within about 15% (docs/heap-profiling.md, "Precision"),
     * for well under 1% of its CPU (bench/README.md). INTROSPECT_HEAP_RATE
     * still overrides it. */
    /* Objectives for the SLO page, unless the environment gives others. */
    setenv("INTROSPECT_SLO", "/work:latency<100ms@99;/db:latency<250ms@99;*:avail@99.9", 0);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.heap_rate = 512;
    int rc = introspect_start(&cfg);
    if (rc) {
        fprintf(stderr, "demo: introspect_start: %s\n", introspect_strerror(rc));
        return 1;
    }
    if (setup_metrics() || demo_db_start(dsn, traffic.rps > 0))
        return 1;
    struct sockaddr_in sa;
    if (parse_listen(listen_addr, &sa)) {
        fprintf(stderr, "demo: bad --listen address %s\n", listen_addr);
        return 2;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
        NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "demo: cannot listen on %s: %s\n", listen_addr, strerror(errno));
        introspect_stop();
        return 1;
    }
    traffic.port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    print_urls(traffic.port);
    pthread_t tid;
    int have_traffic = traffic.rps > 0 && pthread_create(&tid, NULL, traffic_main, &traffic) == 0;
    int sig;
    sigwait(&stop_signals, &sig);
    atomic_store(&g_quit, 1);
    if (have_traffic)
        pthread_join(tid, NULL);
    MHD_stop_daemon(d);
    demo_db_stop();
    introspect_stop();
    return 0;
}
