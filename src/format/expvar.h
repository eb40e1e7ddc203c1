/* Go expvar's /debug/vars layout: one top-level key per line. */
#ifndef IX_FORMAT_EXPVAR_H
#define IX_FORMAT_EXPVAR_H

#include "model/expvar.h"
#include "util/buf.h"

/* Write the document's entries in their order. Returns 0, or
 * INTROSPECT_EINVAL when an entry's value is missing (its writer failed). */
int ix_expvar_json(const struct ix_expvar_doc *d, ix_buf *out);

#endif
