#include "format/task_json.h"

#include <stdio.h>

void ix_task_json_head(introspect_json *j, const struct ix_task_row *t, int64_t now_ns)
{
    char id[32];
    snprintf(id, sizeof id, "%u.%u", t->slot, t->gen);
    introspect_json_key(j, "id");
    introspect_json_string(j, id);
    introspect_json_key(j, "kind");
    introspect_json_string(j, t->kind);
    introspect_json_key(j, "name");
    introspect_json_string(j, t->name);
    introspect_json_key(j, "state");
    introspect_json_string(j, t->state);
    introspect_json_key(j, "age_seconds");
    introspect_json_float(j, (double)(now_ns - t->begin_ns) / 1e9);
}
