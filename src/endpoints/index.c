/* /debug/pprof/: what is served here, as HTML for people or JSON for tools. */
#include <string.h>

#include "endpoints/endpoints.h"
#include "util/json.h"

static void html_escape(ix_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': ix_buf_puts(b, "&lt;"); break;
        case '>': ix_buf_puts(b, "&gt;"); break;
        case '&': ix_buf_puts(b, "&amp;"); break;
        case '"': ix_buf_puts(b, "&quot;"); break;
        default: ix_buf_putc(b, *s);
        }
    }
}

static void index_json(struct ix_response *resp)
{
    introspect_json j;
    ix_json_init(&j, &resp->body);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "version");
    introspect_json_string(&j, introspect_version());
    introspect_json_key(&j, "endpoints");
    introspect_json_array_begin(&j);
    for (size_t i = 0; i < ix_nroutes; i++) {
        if (!ix_routes[i].summary)
            continue;
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "path");
        introspect_json_string(&j, ix_routes[i].path);
        introspect_json_key(&j, "description");
        introspect_json_string(&j, ix_routes[i].summary);
        introspect_json_object_end(&j);
    }
    introspect_json_array_end(&j);
    introspect_json_object_end(&j);
    resp->content_type = "application/json; charset=utf-8";
}

static void index_html(struct ix_response *resp)
{
    ix_buf *b = &resp->body;
    ix_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>/debug/pprof/</title>"
                   "</head><body>\n<h1>/debug/pprof/</h1>\n<p>introspect ");
    html_escape(b, introspect_version());
    ix_buf_puts(b, "</p>\n");
    /* ui: a link to the flame-graph page, above the table. */
    ix_buf_puts(b, "<p><a href=\"/debug/pprof/ui/\">Open the flame-graph UI</a></p>\n");
    ix_buf_puts(b, "<table>\n");
    for (size_t i = 0; i < ix_nroutes; i++) {
        if (!ix_routes[i].summary)
            continue;
        ix_buf_puts(b, "<tr><td><a href=\"");
        html_escape(b, ix_routes[i].path);
        ix_buf_puts(b, "\">");
        html_escape(b, ix_routes[i].path);
        ix_buf_puts(b, "</a></td><td>");
        html_escape(b, ix_routes[i].summary);
        ix_buf_puts(b, "</td></tr>\n");
    }
    ix_buf_puts(b, "</table>\n</body></html>\n");
    resp->content_type = "text/html; charset=utf-8";
}

void ix_ep_index(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "json") == 0)
        index_json(resp);
    else if (fmt && strcmp(fmt, "html") != 0)
        ix_respond_error(resp, 400, "unknown format \"%s\" (want html or json)", fmt);
    else
        index_html(resp);
}
