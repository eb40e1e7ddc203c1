#include "http/server.h"
#include "introspect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/conntrack.h"
#include "http/gate.h"
#include "http/head.h"
#include "http/mhd_lib.h"
#include "http/router.h"
#include "http/throttle.h"
#include "http/workers.h"
#include "host/fork.h"
#include "host/threads.h"
#include "http/heavy.h"
#include "util/sanitized.h"
#include "util/errno_text.h"

#define IX_MAX_BODY (64 * 1024)
/* URI + headers of one request, and the connection's buffers: the gate
 * bounds the head (IX_HEAD_MAX_BYTES) and the body (IX_MAX_BODY) first;
 * under TLS libmicrohttpd answers 414/431 beyond this. */
#define IX_CONN_MEMORY (128 * 1024)
/* The kernel holds a whole request (head and body) while the gate waits
 * for it without reading: room for both. */
#define IX_RCVBUF (256 * 1024)
/* A worker symbolizes (libdw's read_srclines keeps some 140 KiB of tables
 * on its stack); under a sanitizer every instrumented frame is several
 * times larger, and a trace's encoding overflowed 512 KiB under TSan. */
#if IX_SANITIZED_BUILD
#define IX_WORKER_STACK (4096 * 1024)
#else
#define IX_WORKER_STACK (512 * 1024)
#endif

/* The HTTP engine starts at the first connection (issue 22).
 *
 * libmicrohttpd links GnuTLS, and loading both (about 3,400 relocations and
 * GnuTLS's constructors) costs ~8-10 ms of CPU, most of a started module's
 * fixed cost: 3 % of a 0.3 s program that nobody ever scrapes. The gate
 * (http/gate.h) owns the listener and reads each request's head itself, so
 * the engine is needed only when a first connection is handed over: the
 * gate thread loads libmicrohttpd and starts its daemon then, inside a
 * module scope with every asynchronous signal blocked (its event-loop
 * thread is a module thread like the others). A process that is never
 * scraped never maps libmicrohttpd or GnuTLS; the first request of one that
 * is waits ~10 ms more. If the load fails then, that connection and every
 * later one get a 503 whose body says why, and stderr one line.
 *
 * With TLS the engine starts at once, as before: TLS setups pay GnuTLS
 * anyway, and a bad certificate must fail introspect_start, not the first
 * request. */
struct ix_server {
    struct MHD_Daemon *daemon; /* NULL until the first connection (plain HTTP) */
    int engine_rc;             /* the lazy start's error, sticky */
    char engine_why[192];
    unsigned conn_limit, conn_timeout_s;
    int listen_fd;
    int epoll_fd; /* -1 until the daemon runs */
    struct sockaddr_storage bound; /* the listener's address, port included */
    struct ix_workers *workers;
    struct ix_conntrack *conns;
    struct ix_gate *gate;
    pthread_mutex_t mu; /* orders "suspend + submit" against stop */
    int closing;
};

enum { ST_RECEIVING, ST_RUNNING, ST_READY, ST_SENT };

/* Per-request state: created by the URI log callback (the only place the
 * raw URI, query included, is visible), freed by the completion callback.
 * While a worker runs the handler the connection is suspended and the
 * worker owns the context; it hands it back with MHD_resume_connection. */
struct conn_ctx {
    char *uri;
    ix_buf body;
    int too_large;
    int seen; /* the handler was called once already */
    /* Handoff between the event loop and the worker: the worker fills resp,
     * then publishes ST_READY with release order; the loop reads it with
     * acquire order (this is also the edge TSan needs, as libmicrohttpd's
     * resume path is not instrumented). */
    _Atomic int state;
    const char *method;
    struct MHD_Connection *conn;
    struct ix_response resp;
};

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    ix_module_adopt("introspect-http"); /* no-op when created in our scope */
    struct conn_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->uri = strdup(uri ? uri : "/");
        ix_buf_init(&ctx->body);
        ix_response_init(&ctx->resp);
    }
    return ctx;
}

static struct ix_conn *tracked(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        ix_mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static int engine_start(struct ix_server *s);

/* The engine could not start: the client hears why (plain HTTP only, so the
 * answer can be written here), the fd is closed as add_connection would. */
static void refuse(struct ix_server *s, int fd)
{
    char msg[384];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "X-Go-Pprof: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n"
                     "cannot serve: %s\n",
                     strlen("cannot serve: ") + strlen(s->engine_why) + 1, s->engine_why);
    if (n > 0 && send(fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1,
                      MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* the client is gone: nothing to do */ }
    close(fd);
}

/* The gate hands a connection over (http/gate.h); only its thread calls. */
static int take_connection(void *arg, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct ix_server *s = arg;
    if (!s->daemon && (s->engine_rc || engine_start(s))) {
        refuse(s, fd);
        return INTROSPECT_ESYS;
    }
    return ix_mhd.add_connection(s->daemon, fd, addr, len) == MHD_YES ? 0 : INTROSPECT_ESYS;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct ix_server *s = cls;
    ix_module_adopt("introspect-http");
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            ix_mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_ctx = ci ? ix_conntrack_claim(s->conns, ci->connect_fd) : NULL;
    } else {
        ix_conntrack_close(s->conns, *socket_ctx);
        *socket_ctx = NULL;
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct ix_server *s = cls;
    ix_conntrack_busy(s->conns, tracked(c), 0); /* waiting for the next request head */
    struct conn_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->uri);
        ix_buf_free(&ctx->body);
        ix_response_free(&ctx->resp);
        free(ctx);
        *con_cls = NULL;
    }
}

static const char *header_lookup(const struct ix_request *r, const char *name)
{
    return ix_mhd.lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The peer closed its side: poll shows HUP/RDHUP, or a peek reads EOF. */
static int client_gone(const struct ix_request *r)
{
    const union MHD_ConnectionInfo *ci =
        ix_mhd.get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return 0;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
        return 1;
    char c;
    ssize_t n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;
}

static int is_loopback(struct MHD_Connection *c, char *text, size_t tl)
{
    const union MHD_ConnectionInfo *ci = ix_mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    text[0] = '\0';
    if (!ci || !ci->client_addr)
        return 0;
    ix_addr_text(ci->client_addr, text, tl);
    if (ci->client_addr->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ci->client_addr)->sin_addr.s_addr) >> 24) == 127;
    if (ci->client_addr->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr);
    return 0;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct ix_response *resp)
{
    if (resp->body.oom) /* over IX_MAX_RESPONSE, or malloc failed */
        ix_respond_error(resp, 500, "response larger than %zu bytes or out of memory",
                         (size_t)IX_MAX_RESPONSE);
    size_t len = resp->body.len;
    void *data = ix_buf_take(&resp->body, &len);
    if (!data && len) {
        ix_response_init(resp);
        ix_respond_error(resp, 500, "out of memory while rendering the response");
        len = resp->body.len;
        data = ix_buf_take(&resp->body, &len);
    }
    struct MHD_Response *r =
        ix_mhd.create_response_from_buffer(data ? len : 0, data ? data : (void *)"",
                                        data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    char date[40];
    ix_http_date(date, sizeof date); /* libmicrohttpd's own uses gmtime_r: see ix_utc */
    ix_mhd.add_response_header(r, "Date", date);
    ix_mhd.add_response_header(r, "Content-Type", resp->content_type);
    ix_mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
    ix_mhd.add_response_header(r, "Cache-Control", "no-store");
    /* Every connection carries one request, so every request passes the gate. */
    ix_mhd.add_response_header(r, "Connection", "close");
    for (int i = 0; i < resp->nheaders; i++)
        ix_mhd.add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result ret = ix_mhd.queue_response(c, (unsigned)resp->status, r);
    ix_mhd.destroy_response(r);
    return ret;
}

/* Runs on a worker while the connection is suspended. */
static void run_handler(void *arg)
{
    struct conn_ctx *ctx = arg;
    struct ix_request req;
    memset(&req, 0, sizeof req);
    req.method = ctx->method;
    req.conn = ctx->conn;
    req.header_fn = header_lookup;
    req.client_gone_fn = client_gone;
    char addr[INET6_ADDRSTRLEN];
    req.client_is_loopback = is_loopback(ctx->conn, addr, sizeof addr);
    req.client_addr = addr;
    req.body = ctx->body.data ? ctx->body.data : "";
    req.body_len = ctx->body.len;
    const char *why = NULL;
    if (ix_request_parse_uri(&req, ctx->uri, &why))
        ix_respond_error(&ctx->resp, 400, "%s", why);
    else
        ix_route_request(&req, &ctx->resp);
    ix_request_free(&req);
    atomic_store_explicit(&ctx->state, ST_READY, memory_order_release);
    ix_mhd.resume_connection(ctx->conn); /* ctx belongs to the event loop again */
}

/* Hand the request to a worker. Returns 1 when the connection is suspended
 * (the worker, or a 503 written here, completes it after the resume), 0
 * when the server is closing and the 503 can be sent right away. */
static int dispatch(struct ix_server *s, struct conn_ctx *ctx, struct MHD_Connection *c)
{
    int suspended = 0;
    pthread_mutex_lock(&s->mu);
    if (!s->closing) {
        ctx->state = ST_RUNNING;
        ix_mhd.suspend_connection(c);
        suspended = 1;
        if (ix_workers_submit(s->workers, run_handler, ctx) == 0) {
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    ix_respond_error(&ctx->resp, 503, "server is stopping or out of threads");
    ix_response_header(&ctx->resp, "Retry-After", "1");
    ctx->state = ST_READY;
    if (suspended) /* no worker: libmicrohttpd calls again once resumed */
        ix_mhd.resume_connection(c);
    return suspended;
}

static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct ix_head *h = cls;
    if (h->nfields == IX_HEAD_MAX_FIELDS)
        return MHD_NO;
    h->fields[h->nfields++] = (struct ix_head_field){key, value ? value : "", strlen(key),
                                                     value ? strlen(value) : 0};
    return MHD_YES;
}

/* The head's rules where libmicrohttpd parsed it (connections over TLS,
 * which the gate cannot read; on plain HTTP the gate checked them all
 * already): the field rules, the body limit and the router's head checks.
 * Returns 1 when ctx->resp holds the answer. */
static int check_head(struct conn_ctx *ctx, struct MHD_Connection *c, const char *version)
{
    struct ix_head h;
    memset(&h, 0, sizeof h);
    ix_mhd.get_connection_values(c, MHD_HEADER_KIND, collect_field, &h);
    h.minor = version && strcmp(version, "HTTP/1.0") == 0 ? 0 : 1;
    const char *why = NULL;
    int rc = ix_head_check_fields(&h, &why);
    if (rc) {
        ix_respond_error(&ctx->resp, -rc, "%s", why);
        return 1;
    }
    if (h.content_length == IX_HEAD_HUGE || h.content_length > IX_MAX_BODY) {
        ix_respond_error(&ctx->resp, 413, "request body larger than %d bytes", IX_MAX_BODY);
        return 1;
    }
    struct ix_request req;
    memset(&req, 0, sizeof req);
    req.method = ctx->method;
    req.conn = c;
    req.header_fn = header_lookup;
    char addr[INET6_ADDRSTRLEN];
    req.client_is_loopback = is_loopback(c, addr, sizeof addr);
    req.client_addr = addr;
    int answered = 1;
    if (ix_request_parse_uri(&req, ctx->uri, &why))
        ix_respond_error(&ctx->resp, 400, "%s", why);
    else
        answered = ix_route_check_head(&req, &ctx->resp);
    ix_request_free(&req);
    return answered;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    struct conn_ctx *ctx = *con_cls;
    if (!ctx)
        return MHD_NO;
    int state = atomic_load_explicit(&ctx->state, memory_order_acquire);
    if (state == ST_RUNNING)
        return MHD_YES; /* not expected: resumed only when ready */
    if (state != ST_READY) {
        if (*upload_size) { /* accumulate a bounded body */
            if (ctx->body.len + *upload_size > IX_MAX_BODY)
                ctx->too_large = 1;
            else
                ix_buf_put(&ctx->body, upload_data, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        if (!ctx->seen++) {
            ix_conntrack_busy(((struct ix_server *)cls)->conns, tracked(c), 1);
            ctx->method = method;
            ctx->conn = c;
            if (check_head(ctx, c, version)) { /* answered from the head alone */
                ctx->state = ST_SENT;
                return send_response(c, &ctx->resp);
            }
            if (strcmp(method, "POST") == 0)
                return MHD_YES; /* headers only so far: MHD calls again after the body */
        }
        ctx->method = method;
        ctx->conn = c;
        if (ctx->too_large) {
            ix_respond_error(&ctx->resp, 413, "request body larger than %d bytes", IX_MAX_BODY);
            ctx->state = ST_READY;
        } else {
            if (dispatch(cls, ctx, c))
                return MHD_YES;
        }
    }
    ctx->state = ST_SENT;
    return send_response(c, &ctx->resp);
}

/* Bind ourselves so a failure is reported precisely (EADDRINUSE vs other). */
static int bind_listener(const struct ix_config *cfg, int *fd_out, int *port,
                         struct sockaddr_storage *bound, char *why, size_t wl)
{
    int fd = socket(cfg->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, wl, "socket: %s", ix_errno_text(errno));
        return INTROSPECT_EBIND;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rcvbuf = IX_RCVBUF; /* inherited by accepted sockets */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (cfg->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&cfg->sa, cfg->salen) || listen(fd, 128)) {
        int e = errno;
        close(fd);
        snprintf(why, wl, "cannot listen on %s: %s", cfg->addr, ix_errno_text(e));
        return e == EADDRINUSE ? INTROSPECT_EADDRINUSE : INTROSPECT_EBIND;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound = ss;
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *fd_out = fd;
    return 0;
}

static void server_free(struct ix_server *s)
{
    if (s->workers)
        ix_workers_free(s->workers);
    if (s->conns)
        ix_conntrack_free(s->conns);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* tls_cert NULL: plain HTTP. */
static struct MHD_Daemon *start_daemon(struct ix_server *s, char *tls_cert,
                                       char *tls_key)
{
    /* No listen socket: the gate accepts and hands connections over. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                     /* Its Date header calls gmtime_r, whose lock a fork can
                     * leave held forever in the child: ours is sent instead. */
                     MHD_USE_SUPPRESS_DATE_NO_CLOCK;
    struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
    if (tls_cert) {
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key};
        tls[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    /* The caps are the gate's (http/conntrack.h); libmicrohttpd's own limit
     * only bounds connections being evicted. */
    /* libmicrohttpd creates its event-loop thread here: it is born with
     * every asynchronous signal blocked (it inherits this mask, and the
     * pthread_create interposer sees the scope, marks and names it). */
    sigset_t old;
    ix_signals_block(&old);
    ix_module_enter("introspect-http");
    struct MHD_Daemon *d = ix_mhd.start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_CONNECTION_LIMIT, s->conn_limit,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_TIMEOUT, s->conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)IX_CONN_MEMORY,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_ARRAY, tls,
        MHD_OPTION_END);
    ix_module_leave();
    ix_signals_restore(&old);
    if (d) {
        const union MHD_DaemonInfo *di = ix_mhd.get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
        s->epoll_fd = di ? di->epoll_fd : -1;
    }
    return d;
}

/* The lazy start, on the gate thread at the first connection (plain HTTP).
 * A failure is remembered: later connections are refused at once. */
static int engine_start(struct ix_server *s)
{
    int rc = ix_mhd_load(s->engine_why, sizeof s->engine_why);
    if (rc == 0) {
        s->daemon = start_daemon(s, NULL, NULL);
        if (!s->daemon) {
            rc = INTROSPECT_ESYS;
            snprintf(s->engine_why, sizeof s->engine_why, "libmicrohttpd failed to start");
        }
    }
    if (rc) {
        s->engine_rc = rc;
        fprintf(stderr, "introspect: cannot serve: %s\n", s->engine_why);
    }
    return rc;
}

int ix_server_start(const struct ix_config *cfg, struct ix_server **out, int *port, char *why,
                    size_t whylen)
{
    if (cfg->tls_cert) { /* plain HTTP loads the engine at the first connection */
        int lrc = ix_mhd_load(why, whylen);
        if (lrc)
            return lrc;
        if (ix_mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(why, whylen, "TLS requested but libmicrohttpd was built without TLS support");
            return INTROSPECT_EINVAL;
        }
    }
    struct ix_server *s = calloc(1, sizeof *s);
    if (!s)
        return INTROSPECT_ENOMEM;
    s->epoll_fd = -1;
    s->conn_limit = (unsigned)cfg->max_connections * 2 + 16;
    s->conn_timeout_s = (unsigned)cfg->connection_timeout_s;
    pthread_mutex_init(&s->mu, NULL);
    /* Every connection may have one request in flight. */
    s->workers = ix_workers_new(cfg->max_connections, IX_WORKER_STACK);
    s->conns = ix_conntrack_new(cfg->max_connections, cfg->max_connections_per_ip,
                                cfg->connection_timeout_s);
    if (!s->workers || !s->conns) {
        server_free(s);
        return INTROSPECT_ENOMEM;
    }
    int rc = bind_listener(cfg, &s->listen_fd, port, &s->bound, why, whylen);
    if (rc) {
        server_free(s);
        return rc;
    }
    if (cfg->tls_cert)
        s->daemon = start_daemon(s, cfg->tls_cert, cfg->tls_key);
    if (cfg->tls_cert && !s->daemon) {
        close(s->listen_fd);
        server_free(s);
        snprintf(why, whylen, "libmicrohttpd failed to start on %s "
                              "(is the TLS certificate/key pair valid PEM?)", cfg->addr);
        return INTROSPECT_EINVAL;
    }
    ix_throttle_reset();
    struct ix_gate_config gc = {
        .listen_fd = s->listen_fd,
        .tls = cfg->tls_cert != NULL,
        .max_body = IX_MAX_BODY,
        .max_linger = cfg->max_connections,
        .conns = s->conns,
        .handoff = take_connection,
        .handoff_arg = s,
    };
    s->gate = ix_gate_start(&gc);
    if (!s->gate) {
        if (s->daemon)
            ix_mhd.stop_daemon(s->daemon);
        close(s->listen_fd);
        server_free(s);
        snprintf(why, whylen, "cannot start the accept thread");
        return INTROSPECT_ESYS;
    }
    *out = s;
    return 0;
}

void ix_server_forked(struct ix_server *s)
{
    if (!s)
        return;
    ix_close_sockets_bound_to(&s->bound); /* the listener and its connections */
    close(s->listen_fd);                  /* EBADF when already closed: harmless */
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    ix_gate_forked(s->gate);
    ix_heavy_forked();
}

void ix_server_stop(struct ix_server *s)
{
    if (!s)
        return;
    ix_gate_stop(s->gate); /* no new connection from now on */
    close(s->listen_fd);
    pthread_mutex_lock(&s->mu);
    s->closing = 1; /* no request is suspended from now on */
    pthread_mutex_unlock(&s->mu);
    /* Handlers see ix_stopping() and return; each resumes its connection,
     * and libmicrohttpd refuses to stop while one is still suspended. */
    ix_workers_drain(s->workers);
    if (s->daemon) /* the gate thread, which starts it, has been joined */
        ix_mhd.stop_daemon(s->daemon); /* joins its thread, closes its connections */
    server_free(s);
}
