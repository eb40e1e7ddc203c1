#include "http/router.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/throttle.h"
#include "runtime.h"

static const struct ix_handler_guard *_Atomic g_guard;

void ix_router_set_guard(const struct ix_handler_guard *g) { atomic_store(&g_guard, g); }

static _Atomic ix_route_hook g_hook;

void ix_router_set_hook(ix_route_hook h) { atomic_store(&g_hook, h); }

static const struct ix_route *find_route(const char *path)
{
    for (size_t i = 0; i < ix_nroutes; i++) {
        const char *p = ix_routes[i].path;
        size_t n = strlen(p);
        if (n && p[n - 1] == '*' ? strncmp(path, p, n - 1) == 0 : strcmp(path, p) == 0)
            return &ix_routes[i];
    }
    return NULL;
}

/* Constant time in the length of the expected token. */
static int token_matches(const char *given, const char *want)
{
    size_t gl = strlen(given), wl = strlen(want);
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

/* A browser cannot send a bearer header when it loads the UI, so the UI's
 * login (/debug/pprof/ui/?token=...) hands it the token as a cookie:
 * hex-encoded (any byte of a token is then a valid cookie value), HttpOnly,
 * SameSite=Strict (never sent by another site's page: no cross-site request
 * forgery). */
#define TOKEN_COOKIE "introspect_token"
#define MAX_COOKIE_TOKEN 80 /* 2 x 80 hex digits + attributes fit a header */
#define UI_PATH "/debug/pprof/ui"

/* Constant time in the length of the expected token. */
static int hex_matches(const char *given, size_t gl, const char *want)
{
    static const char hex[] = "0123456789abcdef";
    size_t wl = strlen(want);
    unsigned char diff = (unsigned char)(gl != 2 * wl);
    for (size_t i = 0; i < 2 * wl; i++) {
        unsigned char b = (unsigned char)want[i / 2];
        diff |= (unsigned char)(hex[i % 2 ? b & 15 : b >> 4] ^ (i < gl ? given[i] : 0));
    }
    return diff == 0;
}

static int cookie_matches(const char *cookies, const char *want)
{
    size_t kl = strlen(TOKEN_COOKIE);
    for (const char *p = cookies; p && *p;) {
        p += strspn(p, "; ");
        if (!strncmp(p, TOKEN_COOKIE, kl) && p[kl] == '=')
            return hex_matches(p + kl + 1, strcspn(p + kl + 1, "; "), want);
        p += strcspn(p, ";");
    }
    return 0;
}

enum { AUTH_NONE, AUTH_BEARER, AUTH_COOKIE, AUTH_BAD };

/* AUTH_NONE: no token configured; AUTH_BEARER / AUTH_COOKIE: the right
 * token in the Authorization header / the UI's cookie; AUTH_BAD: a token
 * is configured and this request lacks it. */
static int authenticate(const struct ix_request *req)
{
    const struct ix_config *cfg = ix_running_config();
    if (!cfg || !cfg->token)
        return AUTH_NONE;
    const char *h = ix_header(req, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0 && token_matches(h + 7, cfg->token))
        return AUTH_BEARER;
    return cookie_matches(ix_header(req, "Cookie"), cfg->token) ? AUTH_COOKIE : AUTH_BAD;
}

/* The host part of a Host header or of an Origin's authority: brackets
 * kept for IPv6, port dropped. 0 when malformed. */
static int host_part(const char *h, char *out, size_t n)
{
    size_t len;
    if (h[0] == '[') {
        const char *rb = strchr(h, ']');
        if (!rb)
            return 0;
        len = (size_t)(rb - h) + 1;
    } else {
        len = strcspn(h, ":");
    }
    const char *port = h + len;
    if (*port && (*port != ':' || strspn(port + 1, "0123456789") != strlen(port + 1)))
        return 0;
    if (len == 0 || len >= n)
        return 0;
    memcpy(out, h, len);
    out[len] = '\0';
    return 1;
}

static int is_loopback_name(const char *host)
{
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0 ||
        (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0) || strcmp(host, "[::1]") == 0)
        return 1;
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* allowed_hosts: comma-separated names (case-insensitive), "*" = any. */
static int is_allowed_host(const char *list, const char *host)
{
    size_t hl = strlen(host);
    for (const char *p = list; p && *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if ((n == 1 && *p == '*') || (n == hl && n && strncasecmp(p, host, n) == 0))
            return 1;
        p += n;
    }
    return 0;
}

/* DNS rebinding: a web page whose name an attacker points at 127.0.0.1
 * makes the browser send our port requests with that name in Host, and
 * reads the answers as same-origin. On a loopback bind only loopback names
 * (and the configured allowed_hosts) are answered. */
static int host_refused(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    const char *h = ix_header(req, "Host");
    if (!cfg || !cfg->loopback || !h) /* no Host: HTTP/1.0, never a browser */
        return 0;
    char host[256];
    if (!host_part(h, host, sizeof host)) {
        ix_respond_error(resp, 400, "malformed Host header");
        return 1;
    }
    if (is_loopback_name(host) || is_allowed_host(cfg->allowed_hosts, host))
        return 0;
    ix_respond_error(resp, 421, "host %.100s is not a name of this server: a loopback address "
                                "answers loopback names only (DNS rebinding protection; "
                                "see allowed_hosts)", host);
    return 1;
}

/* A cookie is sent by the browser whatever page made the request, so a
 * cookie-authenticated request must come from our own pages: Sec-Fetch-Site
 * same-origin (or none: typed or bookmarked), and an Origin, when sent,
 * equal to the Host. Clients that are not browsers send neither. Bearer
 * requests need no check: a page cannot make the browser add the header. */
static int cross_origin(const struct ix_request *req)
{
    const char *site = ix_header(req, "Sec-Fetch-Site");
    if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
        return 1;
    const char *origin = ix_header(req, "Origin");
    if (!origin)
        return 0;
    const char *host = ix_header(req, "Host");
    const char *auth = strstr(origin, "://");
    return !host || !auth || strcasecmp(auth + 3, host) != 0;
}

/* GET /debug/pprof/ui/?token=T with the right token: set the cookie and send
 * the browser to the UI, so the token leaves the address bar at once.
 * Returns 1 when it answered. */
static int ui_login(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    const char *given = ix_param(req, "token");
    if (!cfg || !cfg->token || !given ||
        (strcmp(req->path, UI_PATH) && strcmp(req->path, UI_PATH "/")))
        return 0;
    if (!token_matches(given, cfg->token)) {
        ix_throttle_failed(req->client_addr);
        ix_respond_error(resp, 401, "wrong token");
        ix_response_header(resp, "WWW-Authenticate", "Bearer realm=\"introspect\"");
        return 1;
    }
    size_t n = strlen(cfg->token);
    if (n > MAX_COOKIE_TOKEN) {
        ix_respond_error(resp, 400, "the token is longer than %d bytes: too long for the UI's "
                                    "cookie; send it in an Authorization header", MAX_COOKIE_TOKEN);
        return 1;
    }
    char hex[2 * MAX_COOKIE_TOKEN + 1];
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)cfg->token[i]);
    hex[2 * n] = 0;
    ix_respond_redirect(resp, 303, UI_PATH "/");
    ix_response_header(resp, "Set-Cookie", TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
                       hex, cfg->tls_cert ? "; Secure" : "");
    return 1;
}

static int is_ui_login(const struct ix_request *req)
{
    const struct ix_config *cfg = ix_running_config();
    return cfg && cfg->token && ix_param(req, "token") &&
           (!strcmp(req->path, UI_PATH) || !strcmp(req->path, UI_PATH "/"));
}

/* The access rule, in one place:
 *  - on a loopback bind, the Host must be a loopback name (421);
 *  - a token is configured: every request must carry it, as a bearer
 *    header or as the cookie /debug/pprof/ui/?token= sets (401 otherwise),
 *    and then every route is served, to any address; a cookie must come
 *    with our own origin (403); an address that sent wrong tokens too often
 *    waits (429, http/throttle.h);
 *  - no token (the server can only be bound to loopback): routes marked
 *    secret (command line, published vars) are served to loopback clients
 *    only (403), so a port forward or proxy that makes the port reachable
 *    from elsewhere does not leak them.
 * Everything here reads the head alone: the gate runs it before waiting for
 * a body (401, 404, 405 never wait for the bytes of a body). */
int ix_route_check_head(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    if (host_refused(req, resp))
        return 1;
    if (cfg && cfg->token) {
        long wait = ix_throttle_wait(req->client_addr);
        if (wait) {
            ix_respond_error(resp, 429, "too many wrong tokens from this address; retry in %ld s",
                             wait);
            ix_response_header(resp, "Retry-After", "%ld", wait);
            return 1;
        }
    }
    if (is_ui_login(req))
        return 0; /* ui_login checks the token of the query */
    int auth = authenticate(req);
    if (auth == AUTH_BAD) {
        ix_throttle_failed(req->client_addr);
        ix_respond_error(resp, 401, "missing or wrong bearer token");
        ix_response_header(resp, "WWW-Authenticate", "Bearer realm=\"introspect\"");
        return 1;
    }
    if (auth == AUTH_COOKIE && cross_origin(req)) {
        ix_respond_error(resp, 403, "cross-origin request with the login cookie refused "
                                    "(Origin / Sec-Fetch-Site is not this server)");
        return 1;
    }
    const struct ix_route *r = find_route(req->path);
    if (!r) {
        ix_respond_error(resp, 404, "unknown path: %s", req->path);
        return 1;
    }
    if (r->secret && auth == AUTH_NONE && !req->client_is_loopback) {
        ix_respond_error(resp, 403, "%s may reveal secrets: configure a token to serve it "
                                    "to non-loopback clients", req->path);
        return 1;
    }
    int is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int is_post = strcmp(req->method, "POST") == 0;
    if (!((is_get && (r->methods & IX_GET)) || (is_post && (r->methods & IX_POST)))) {
        ix_respond_error(resp, 405, "method %s not allowed on %s", req->method, req->path);
        ix_response_header(resp, "Allow", "%s", (r->methods & IX_POST) ? "GET, HEAD, POST" : "GET, HEAD");
        return 1;
    }
    return 0;
}

void ix_route_request(const struct ix_request *req, struct ix_response *resp)
{
    if (ix_route_check_head(req, resp) || ui_login(req, resp))
        return;
    const struct ix_route *r = find_route(req->path);
    const struct ix_handler_guard *g = atomic_load(&g_guard);
    if (g)
        g->enter();
    ix_route_hook hook = atomic_load(&g_hook);
    if (!hook || !hook(req, resp, r->handler))
        r->handler(req, resp);
    if (g)
        g->leave();
}
