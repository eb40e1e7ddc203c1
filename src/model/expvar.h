/* The /debug/vars document: top-level keys, each with its value already
 * rendered as JSON (by the collectors and the published variables), sorted
 * by key as Go's expvar sorts them before format/expvar_json.c lays them out. */
#ifndef IX_MODEL_EXPVAR_H
#define IX_MODEL_EXPVAR_H

#include <stddef.h>

#include "util/buf.h"

struct ix_expvar_entry {
    const char *key; /* borrowed: a collector's section name or a variable's */
    ix_buf value;    /* its JSON; empty or oom: the writer failed */
};

struct ix_expvar_doc {
    struct ix_expvar_entry *v;
    size_t n, cap;
    int oom; /* an entry could not be added */
};

/* A new entry's value buffer, or NULL (doc->oom set). */
ix_buf *ix_expvar_add(struct ix_expvar_doc *d, const char *key);
void ix_expvar_sort(struct ix_expvar_doc *d);
void ix_expvar_free(struct ix_expvar_doc *d);

#endif
