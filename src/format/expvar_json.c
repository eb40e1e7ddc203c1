/* /debug/vars as Go's expvar writes it: "{\n", then `"key": value` joined by
 * ",\n", then "\n}\n"; the values are the entries' JSON as rendered. */
#include "format/expvar.h"

#include "introspect.h"
#include "util/json.h"

int ix_expvar_json(const struct ix_expvar_doc *d, ix_buf *out)
{
    int rc = 0;
    ix_buf_puts(out, "{\n");
    for (size_t i = 0; i < d->n; i++) {
        const ix_buf *v = &d->v[i].value;
        if (i)
            ix_buf_puts(out, ",\n");
        ix_json_quote(out, d->v[i].key);
        ix_buf_puts(out, ": ");
        if (v->oom || !v->len)
            rc = INTROSPECT_EINVAL;
        else
            ix_buf_put(out, v->data, v->len);
    }
    ix_buf_puts(out, "\n}\n");
    return rc;
}
