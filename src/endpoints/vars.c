/* /debug/vars: expvar's layout. Every top-level value is rendered into its
 * own buffer first so the keys can be sorted, as Go's expvar does. */
#include <stdlib.h>
#include <string.h>

#include "collectors.h"
#include "endpoints/compress.h"
#include "endpoints/endpoints.h"
#include "registry/registry.h"

struct entry {
    const char *key;
    ix_buf value;
};

struct entries {
    struct entry *v;
    size_t n, cap;
    int oom;
};

static ix_buf *add(struct entries *e, const char *key)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        struct entry *v = realloc(e->v, cap * sizeof *v);
        if (!v) {
            e->oom = 1;
            return NULL;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n].key = key;
    ix_buf_init(&e->v[e->n].value);
    return &e->v[e->n++].value;
}

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
    ix_buf *b = add(ctx, key);
    if (!b)
        return;
    introspect_json j;
    ix_json_init(&j, b);
    ix_var_write(&j, v);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

void ix_ep_vars(const struct ix_request *req, struct ix_response *resp)
{
    (void)req;
    struct entries e = {0};
    int bad = 0;
    ix_buf *b;
    if ((b = add(&e, "memstats")))
        render(b, memstats, &bad);
    for (size_t i = 0; i < ix_nvars_sections; i++)
        if ((b = add(&e, ix_vars_sections[i].key)))
            render(b, ix_vars_sections[i].fn, &bad);
    ix_vars_each(add_var, &e);
    qsort(e.v, e.n, sizeof *e.v, by_key);
    ix_buf *out = &resp->body;
    ix_buf_puts(out, "{\n");
    for (size_t i = 0; i < e.n; i++) {
        if (i)
            ix_buf_puts(out, ",\n");
        ix_json_quote(out, e.v[i].key);
        ix_buf_puts(out, ": ");
        if (e.v[i].value.oom || !e.v[i].value.len)
            bad = 1;
        else
            ix_buf_put(out, e.v[i].value.data, e.v[i].value.len);
        ix_buf_free(&e.v[i].value);
    }
    ix_buf_puts(out, "\n}\n");
    free(e.v);
    if (bad || e.oom)
        ix_respond_error(resp, 500, "could not render /debug/vars");
    else
        resp->content_type = "application/json; charset=utf-8";
    ix_compress_reply(req, resp);
}
