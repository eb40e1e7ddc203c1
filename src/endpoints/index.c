/* /debug/pprof/: what is served here, as HTML for people or JSON for tools. */
#include <string.h>

#include "endpoints/endpoints.h"
#include "tree/table.h"
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
    introspect_json_key(&j, "tree");
    ix_buf tree;
    ix_buf_init(&tree);
    ix_tree_processes_json(&tree);
    ix_json_raw(&j, tree.data ? tree.data : "null", tree.data ? tree.len : 4);
    ix_buf_free(&tree);
    introspect_json_object_end(&j);
    resp->content_type = "application/json; charset=utf-8";
}

/* Processes of the tree, each with links to its own profiles. */
static void index_tree(ix_buf *b)
{
    struct ix_tree_proc procs[IX_TREE_SLOTS + 1];
    int n = ix_tree_list(procs, IX_TREE_SLOTS + 1);
    if (n <= 1)
        return;
    ix_buf_printf(b, "<h2>Processes (%d)</h2>\n<p>Profiles of the tree are merged, each sample "
                     "labelled pid and process; ?pid=N serves one process.</p>\n<table>\n", n);
    for (int i = 0; i < n; i++) {
        char cmd[512];
        ix_tree_cmdline(procs[i].pid, cmd, sizeof cmd);
        ix_buf_printf(b, "<tr><td>%d</td><td>%d</td><td>", procs[i].pid, procs[i].ppid);
        html_escape(b, cmd);
        ix_buf_printf(b, "</td><td><a href=\"/debug/pprof/profile?seconds=10&amp;pid=%d\">cpu</a> "
                         "<a href=\"/debug/pprof/heap?pid=%d\">heap</a> "
                         "<a href=\"/debug/pprof/threads?debug=1&amp;pid=%d\">threads</a></td></tr>\n",
                      procs[i].pid, procs[i].pid, procs[i].pid);
    }
    ix_buf_puts(b, "</table>\n");
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
    ix_buf_puts(b, "</table>\n");
    index_tree(b);
    ix_buf_puts(b, "</body></html>\n");
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
