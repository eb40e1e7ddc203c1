/* The /debug/pprof/ index for tools: version, endpoints, and the tree. */
#include "format/index.h"

#include "util/json.h"

void ix_index_json(const struct ix_index *ix, ix_buf *b)
{
    introspect_json j;
    ix_json_init(&j, b);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "version");
    introspect_json_string(&j, ix->version);
    introspect_json_key(&j, "endpoints");
    introspect_json_array_begin(&j);
    for (size_t i = 0; i < ix->nendpoints; i++) {
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "path");
        introspect_json_string(&j, ix->endpoints[i].path);
        introspect_json_key(&j, "description");
        introspect_json_string(&j, ix->endpoints[i].description);
        introspect_json_object_end(&j);
    }
    introspect_json_array_end(&j);
    introspect_json_key(&j, "tree");
    if (ix->tree_json)
        ix_json_raw(&j, ix->tree_json, ix->tree_json_len);
    else
        ix_json_raw(&j, "null", 4);
    introspect_json_object_end(&j);
}
