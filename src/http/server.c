#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/router.h"

#define IX_MAX_BODY (64 * 1024)

struct ix_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
};

/* Per-connection state: created by the URI log callback (the only place the
 * raw URI, query included, is visible), freed by the completion callback. */
struct conn_ctx {
    char *uri;
    ix_buf body;
    int too_large;
    int seen; /* the handler was called once already */
};

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct conn_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->uri = strdup(uri ? uri : "/");
        ix_buf_init(&ctx->body);
    }
    return ctx;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn_ctx *ctx = *con_cls;
    if (ctx) {
        free(ctx->uri);
        ix_buf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

static const char *header_lookup(const struct ix_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The peer closed its side: poll shows HUP/RDHUP, or a peek reads EOF. */
static int client_gone(const struct ix_request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
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

static int is_loopback(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return 0;
    if (ci->client_addr->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ci->client_addr)->sin_addr.s_addr) >> 24) == 127;
    if (ci->client_addr->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr);
    return 0;
}

/* Split the raw URI, decode the path and parse the query. */
static int parse_uri(struct ix_request *req, const char *uri, const char **why)
{
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    req->path = strndup(uri, plen);
    req->query = strdup(q ? q + 1 : "");
    if (!req->path || !req->query) {
        *why = "out of memory";
        return -1;
    }
    if (ix_percent_decode(req->path, 0)) {
        *why = "malformed percent-encoding in path";
        return -1;
    }
    return ix_query_parse(req, req->query, strlen(req->query), why);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct ix_response *resp)
{
    size_t len = resp->body.len;
    void *data = ix_buf_take(&resp->body, &len);
    if (!data && len) {
        ix_response_init(resp);
        ix_respond_error(resp, 500, "out of memory while rendering the response");
        len = resp->body.len;
        data = ix_buf_take(&resp->body, &len);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(data ? len : 0, data ? data : (void *)"",
                                        data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", resp->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct conn_ctx *ctx = *con_cls;
    if (!ctx)
        return MHD_NO;
    if (*upload_size) { /* accumulate a bounded body */
        if (ctx->body.len + *upload_size > IX_MAX_BODY)
            ctx->too_large = 1;
        else
            ix_buf_put(&ctx->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!ctx->seen++ && strcmp(method, "POST") == 0)
        return MHD_YES; /* headers only so far: MHD calls again after the body */
    struct ix_request req;
    struct ix_response resp;
    memset(&req, 0, sizeof req);
    ix_response_init(&resp);
    req.method = method;
    req.conn = c;
    req.header_fn = header_lookup;
    req.client_gone_fn = client_gone;
    req.client_is_loopback = is_loopback(c);
    req.body = ctx->body.data ? ctx->body.data : "";
    req.body_len = ctx->body.len;
    const char *why = NULL;
    if (ctx->too_large)
        ix_respond_error(&resp, 413, "request body larger than %d bytes", IX_MAX_BODY);
    else if (parse_uri(&req, ctx->uri, &why))
        ix_respond_error(&resp, 400, "%s", why);
    else
        ix_route_request(&req, &resp);
    enum MHD_Result ret = send_response(c, &resp);
    ix_response_free(&resp);
    ix_request_free(&req);
    return ret;
}

/* Bind ourselves so a failure is reported precisely (EADDRINUSE vs other). */
static int bind_listener(const struct ix_config *cfg, int *fd_out, int *port, char *why, size_t wl)
{
    int fd = socket(cfg->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, wl, "socket: %s", strerror(errno));
        return INTROSPECT_EBIND;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (cfg->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&cfg->sa, cfg->salen) || listen(fd, 128)) {
        int e = errno;
        close(fd);
        snprintf(why, wl, "cannot listen on %s: %s", cfg->addr, strerror(e));
        return e == EADDRINUSE ? INTROSPECT_EADDRINUSE : INTROSPECT_EBIND;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
    *fd_out = fd;
    return 0;
}

int ix_server_start(const struct ix_config *cfg, struct ix_server **out, int *port, char *why,
                    size_t whylen)
{
    struct ix_server *s = calloc(1, sizeof *s);
    if (!s)
        return INTROSPECT_ENOMEM;
    int rc = bind_listener(cfg, &s->listen_fd, port, why, whylen);
    if (rc) {
        free(s);
        return rc;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    if (!s->daemon) {
        close(s->listen_fd);
        free(s);
        snprintf(why, whylen, "libmicrohttpd failed to start on %s", cfg->addr);
        return INTROSPECT_EBIND;
    }
    *out = s;
    return 0;
}

void ix_server_stop(struct ix_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon); /* joins its threads and closes the listening socket */
    free(s);
}
