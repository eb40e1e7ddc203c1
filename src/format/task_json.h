/* The fields every JSON view of a task starts with (tasks and thread dumps). */
#ifndef IX_FORMAT_TASK_JSON_H
#define IX_FORMAT_TASK_JSON_H

#include <stdint.h>

#include "model/tasks.h"
#include "util/json.h"

/* Write "id", "kind", "name", "state" and "age_seconds" into an open object. */
void ix_task_json_head(introspect_json *j, const struct ix_task_row *t, int64_t now_ns);

#endif
