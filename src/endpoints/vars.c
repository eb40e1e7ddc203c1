/* /debug/vars: expvar's layout. The collectors and the published variables
 * render each top-level value into an entry of the document
 * (model/expvar.h), which is sorted by key as Go's expvar does and written
 * by format/expvar_json.c. */
#include "collectors.h"
#include "endpoints/compress.h"
#include "endpoints/endpoints.h"
#include "format/expvar.h"
#include "registry/registry.h"

static void memstats(introspect_json *j)
{
    introspect_json_object_begin(j);
    for (size_t i = 0; i < ix_nmemstats_parts; i++)
        ix_memstats_parts[i](j);
    introspect_json_object_end(j);
}

static void render(ix_buf *b, void (*fn)(introspect_json *j), int *bad)
{
    introspect_json j;
    ix_json_init(&j, b);
    fn(&j);
    if (!ix_json_complete(&j))
        *bad = 1;
}

static void add_var(void *ctx, const char *key, struct introspect_var *v)
{
    ix_buf *b = ix_expvar_add(ctx, key);
    if (!b)
        return;
    introspect_json j;
    ix_json_init(&j, b);
    ix_var_write(&j, v);
}

void ix_ep_vars(const struct ix_request *req, struct ix_response *resp)
{
    struct ix_expvar_doc d = {0};
    int bad = 0;
    ix_buf *b;
    if ((b = ix_expvar_add(&d, "memstats")))
        render(b, memstats, &bad);
    for (size_t i = 0; i < ix_nvars_sections; i++)
        if ((b = ix_expvar_add(&d, ix_vars_sections[i].key)))
            render(b, ix_vars_sections[i].fn, &bad);
    ix_vars_each(add_var, &d);
    ix_expvar_sort(&d);
    if (ix_expvar_json(&d, &resp->body))
        bad = 1;
    int oom = d.oom;
    ix_expvar_free(&d);
    if (bad || oom)
        ix_respond_error(resp, 500, "could not render /debug/vars");
    else
        resp->content_type = "application/json; charset=utf-8";
    ix_compress_reply(req, resp);
}
