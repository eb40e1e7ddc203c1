/* The /debug/pprof/ page: version, a link to the flame-graph UI, one row per
 * endpoint, and the processes of a tree with links to their profiles. */
#include "format/index.h"

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

/* Processes of the tree, each with links to its own profiles. */
static void processes(const struct ix_index *ix, ix_buf *b)
{
    if (ix->nprocesses <= 1)
        return;
    ix_buf_printf(b, "<h2>Processes (%zu)</h2>\n<p>Profiles of the tree are merged, each sample "
                     "labelled pid and process; ?pid=N serves one process.</p>\n<table>\n",
                  ix->nprocesses);
    for (size_t i = 0; i < ix->nprocesses; i++) {
        const struct ix_index_process *p = &ix->processes[i];
        ix_buf_printf(b, "<tr><td>%d</td><td>%d</td><td>", p->pid, p->ppid);
        html_escape(b, p->cmdline);
        ix_buf_printf(b, "</td><td><a href=\"/debug/pprof/profile?seconds=10&amp;pid=%d\">cpu</a> "
                         "<a href=\"/debug/pprof/heap?pid=%d\">heap</a> "
                         "<a href=\"/debug/pprof/threads?debug=1&amp;pid=%d\">threads</a></td></tr>\n",
                      p->pid, p->pid, p->pid);
    }
    ix_buf_puts(b, "</table>\n");
}

void ix_index_html(const struct ix_index *ix, ix_buf *b)
{
    ix_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>/debug/pprof/</title>"
                   "</head><body>\n<h1>/debug/pprof/</h1>\n<p>introspect ");
    html_escape(b, ix->version);
    ix_buf_puts(b, "</p>\n");
    /* ui: a link to the flame-graph page, above the table. */
    ix_buf_puts(b, "<p><a href=\"/debug/pprof/ui/\">Open the flame-graph UI</a></p>\n");
    ix_buf_puts(b, "<table>\n");
    for (size_t i = 0; i < ix->nendpoints; i++) {
        ix_buf_puts(b, "<tr><td><a href=\"");
        html_escape(b, ix->endpoints[i].path);
        ix_buf_puts(b, "\">");
        html_escape(b, ix->endpoints[i].path);
        ix_buf_puts(b, "</a></td><td>");
        html_escape(b, ix->endpoints[i].description);
        ix_buf_puts(b, "</td></tr>\n");
    }
    ix_buf_puts(b, "</table>\n");
    processes(ix, b);
    ix_buf_puts(b, "</body></html>\n");
}
