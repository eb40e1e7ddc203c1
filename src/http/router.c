#include "http/router.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

static const struct ix_handler_guard *_Atomic g_guard;

void ix_router_set_guard(const struct ix_handler_guard *g) { atomic_store(&g_guard, g); }

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

enum { AUTH_NONE, AUTH_OK, AUTH_BAD };

/* AUTH_NONE: no token configured; AUTH_OK: the right bearer token (or the
 * UI's cookie); AUTH_BAD: a token is configured and this request lacks it. */
static int authenticate(const struct ix_request *req)
{
    const struct ix_config *cfg = ix_running_config();
    if (!cfg || !cfg->token)
        return AUTH_NONE;
    const char *h = ix_header(req, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0 && token_matches(h + 7, cfg->token))
        return AUTH_OK;
    return cookie_matches(ix_header(req, "Cookie"), cfg->token) ? AUTH_OK : AUTH_BAD;
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

/* The access rule, in one place:
 *  - a token is configured: every request must carry it, as a bearer
 *    header or as the cookie /debug/pprof/ui/?token= sets (401 otherwise),
 *    and then every route is served, to any address;
 *  - no token (the server can only be bound to loopback): routes marked
 *    secret (command line, published vars) are served to loopback clients
 *    only (403), so a port forward or proxy that makes the port reachable
 *    from elsewhere does not leak them. */
void ix_route_request(const struct ix_request *req, struct ix_response *resp)
{
    if (ui_login(req, resp))
        return;
    int auth = authenticate(req);
    if (auth == AUTH_BAD) {
        ix_respond_error(resp, 401, "missing or wrong bearer token");
        ix_response_header(resp, "WWW-Authenticate", "Bearer realm=\"introspect\"");
        return;
    }
    const struct ix_route *r = find_route(req->path);
    if (!r) {
        ix_respond_error(resp, 404, "unknown path: %s", req->path);
        return;
    }
    if (r->secret && auth != AUTH_OK && !req->client_is_loopback) {
        ix_respond_error(resp, 403, "%s may reveal secrets: configure a token to serve it "
                                    "to non-loopback clients", req->path);
        return;
    }
    int is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int is_post = strcmp(req->method, "POST") == 0;
    if (!((is_get && (r->methods & IX_GET)) || (is_post && (r->methods & IX_POST)))) {
        ix_respond_error(resp, 405, "method %s not allowed on %s", req->method, req->path);
        ix_response_header(resp, "Allow", "%s", (r->methods & IX_POST) ? "GET, HEAD, POST" : "GET, HEAD");
        return;
    }
    const struct ix_handler_guard *g = atomic_load(&g_guard);
    if (g)
        g->enter();
    r->handler(req, resp);
    if (g)
        g->leave();
}
