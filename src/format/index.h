/* Encoders of the /debug/pprof/ index (model/index.h). */
#ifndef IX_FORMAT_INDEX_H
#define IX_FORMAT_INDEX_H

#include "model/index.h"
#include "util/buf.h"

/* The page for people: a link to the UI, the endpoints as a table, and the
 * tree's processes with links to their profiles when there are several. */
void ix_index_html(const struct ix_index *ix, ix_buf *b);
/* For tools: {"version", "endpoints": [{path, description}], "tree"}. */
void ix_index_json(const struct ix_index *ix, ix_buf *b);

#endif
