#include "http/router.h"

#include <string.h>
#include "runtime.h"
#include "sampling/heap.h"

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

enum { AUTH_NONE, AUTH_OK, AUTH_BAD };

/* AUTH_NONE: no token configured; AUTH_OK: the right bearer token;
 * AUTH_BAD: a token is configured and this request lacks it. */
static int authenticate(const struct ix_request *req)
{
    const struct ix_config *cfg = ix_running_config();
    if (!cfg || !cfg->token)
        return AUTH_NONE;
    const char *h = ix_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return AUTH_BAD;
    return token_matches(h + 7, cfg->token) ? AUTH_OK : AUTH_BAD;
}

/* The access rule, in one place:
 *  - a token is configured: every request must carry it (401 otherwise), and
 *    then every route is served, to any address;
 *  - no token (the server can only be bound to loopback): routes marked
 *    secret (command line, published vars) are served to loopback clients
 *    only (403), so a port forward or proxy that makes the port reachable
 *    from elsewhere does not leak them. */
void ix_route_request(const struct ix_request *req, struct ix_response *resp)
{
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
    ix_heap_exclude_begin(); /* the module's own work (symbol caches...) stays out of heap profiles */
    r->handler(req, resp);
    ix_heap_exclude_end();
}
