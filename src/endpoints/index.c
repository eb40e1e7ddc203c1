/* /debug/pprof/: what is served here, as HTML for people or JSON for tools.
 * The endpoint gathers the index (model/index.h) from the route table and
 * the process tree, and hands it to format/index.h. */
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "format/index.h"
#include "introspect.h"
#include "tree/table.h"

/* The routes that have a summary; 0 or INTROSPECT_ENOMEM. */
static int load_endpoints(struct ix_index *ix)
{
    ix->endpoints = malloc((ix_nroutes + 1) * sizeof *ix->endpoints);
    if (!ix->endpoints)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < ix_nroutes; i++)
        if (ix_routes[i].summary)
            ix->endpoints[ix->nendpoints++] =
                (struct ix_index_endpoint){ix_routes[i].path, ix_routes[i].summary};
    return 0;
}

/* The tree's processes with their command lines (the page lists them). */
static int load_processes(struct ix_index *ix)
{
    struct ix_tree_proc *procs = malloc((IX_TREE_SLOTS + 1) * sizeof *procs);
    if (!procs)
        return INTROSPECT_ENOMEM;
    int n = ix_tree_list(procs, IX_TREE_SLOTS + 1);
    if (n > 1) {
        ix->processes = malloc((size_t)n * sizeof *ix->processes);
        if (!ix->processes) {
            free(procs);
            return INTROSPECT_ENOMEM;
        }
        for (int i = 0; i < n; i++) {
            struct ix_index_process *p = &ix->processes[i];
            p->pid = procs[i].pid;
            p->ppid = procs[i].ppid;
            ix_tree_cmdline(procs[i].pid, p->cmdline, sizeof p->cmdline);
        }
        ix->nprocesses = (size_t)n;
    }
    free(procs);
    return 0;
}

void ix_ep_index(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    int json = fmt && strcmp(fmt, "json") == 0;
    if (fmt && !json && strcmp(fmt, "html") != 0) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want html or json)", fmt);
        return;
    }
    struct ix_index ix = {.version = introspect_version()};
    ix_buf tree;
    ix_buf_init(&tree);
    int rc = load_endpoints(&ix);
    if (rc == 0 && json) {
        ix_tree_processes_json(&tree);
        ix.tree_json = tree.data;
        ix.tree_json_len = tree.len;
    } else if (rc == 0) {
        rc = load_processes(&ix);
    }
    if (rc) {
        ix_respond_error(resp, 500, "out of memory while listing endpoints");
    } else if (json) {
        ix_index_json(&ix, &resp->body);
        resp->content_type = "application/json; charset=utf-8";
    } else {
        ix_index_html(&ix, &resp->body);
        resp->content_type = "text/html; charset=utf-8";
    }
    ix_buf_free(&tree);
    free(ix.endpoints);
    free(ix.processes);
}
