/* /debug/pprof/tasks: the application's live tasks, oldest first, with age,
 * state, deadline (and how far past it), the thread running them and, when
 * sampled, the stack that began them. Text by default, ?format=json. The
 * endpoint parses, loads the list (registry/tasks_list.c), resolves the birth
 * stacks and hands both to format/tasks.h. */
#include <string.h>

#include "endpoints/endpoints.h"
#include "format/tasks.h"
#include "registry/tasks.h"

void ix_ep_tasks(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "text")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want text or json)", fmt);
        return;
    }
    struct ix_task_list l;
    if (ix_task_list_load(&l)) {
        ix_task_list_free(&l);
        ix_respond_error(resp, 500, "out of memory while listing tasks");
        return;
    }
    struct ix_resolved r;
    int resolved = l.stacks.nsamples && !l.stacks.oom && ix_profile_resolve(&l.stacks, &r) == 0;
    if (fmt && strcmp(fmt, "json") == 0) {
        resp->content_type = "application/json; charset=utf-8";
        ix_tasks_json(&l, resolved ? &r : NULL, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        ix_tasks_text(&l, resolved ? &r : NULL, &resp->body);
    }
    if (resolved)
        ix_resolved_free(&r);
    ix_task_list_free(&l);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing tasks");
}
