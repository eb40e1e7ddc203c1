#include "model/expvar.h"

#include <stdlib.h>
#include <string.h>

ix_buf *ix_expvar_add(struct ix_expvar_doc *d, const char *key)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct ix_expvar_entry *v = realloc(d->v, cap * sizeof *v);
        if (!v) {
            d->oom = 1;
            return NULL;
        }
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n].key = key;
    ix_buf_init(&d->v[d->n].value);
    return &d->v[d->n++].value;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct ix_expvar_entry *)a)->key,
                  ((const struct ix_expvar_entry *)b)->key);
}

void ix_expvar_sort(struct ix_expvar_doc *d)
{
    if (d->n)
        qsort(d->v, d->n, sizeof *d->v, by_key);
}

void ix_expvar_free(struct ix_expvar_doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        ix_buf_free(&d->v[i].value);
    free(d->v);
    memset(d, 0, sizeof *d);
}
