/* /debug/pprof/ui/: the flame-graph page and its script and style, served
 * from the copies compiled into the library (cmake/embed_web.cmake).
 *
 * The page loads nothing but these files and the JSON endpoints of this same
 * server, so the Content-Security-Policy allows only 'self': no inline code,
 * no CDN, no third-party frames. */
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/ui_assets.h"

#define UI_PREFIX "/debug/pprof/ui/"

static const char ui_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                             "img-src 'self'; connect-src 'self'; object-src 'none'; "
                             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return "application/octet-stream";
}

static const struct ix_ui_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < ix_ui_nassets; i++)
        if (strcmp(ix_ui_assets[i].name, name) == 0)
            return &ix_ui_assets[i];
    return NULL;
}

void ix_ep_ui(const struct ix_request *req, struct ix_response *resp)
{
    /* Without the slash the page's relative asset links would resolve one
     * level up, so send the browser to the canonical address. */
    if (strcmp(req->path, "/debug/pprof/ui") == 0) {
        ix_respond_redirect(resp, 301, UI_PREFIX);
        return;
    }
    const char *name = req->path + strlen(UI_PREFIX);
    if (!*name)
        name = "index.html";
    const struct ix_ui_asset *a = strchr(name, '/') ? NULL : find_asset(name);
    if (!a) {
        ix_respond_error(resp, 404, "no such UI file: %s", req->path);
        return;
    }
    ix_buf_put(&resp->body, a->data, a->len);
    resp->content_type = content_type_of(a->name);
    ix_response_header(resp, "Content-Security-Policy", "%s", ui_csp);
    ix_response_header(resp, "Referrer-Policy", "no-referrer");
    ix_response_header(resp, "X-Frame-Options", "DENY");
}
