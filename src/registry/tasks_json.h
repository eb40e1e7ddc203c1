/* The fields every JSON view of a task starts with (tasks and threads). */
#ifndef IX_TASKS_JSON_H
#define IX_TASKS_JSON_H

#include "util/json.h"
#include "registry/tasks.h"

/* Write "id", "kind", "name", "state" and "age_seconds" into an open object. */
void ix_task_json_head(introspect_json *j, const struct ix_task_info *t, int64_t now_ns);

#endif
