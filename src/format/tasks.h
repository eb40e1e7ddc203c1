/* Encoders of /debug/pprof/tasks: the live tasks (model/tasks.h) with their
 * figures per kind and, where r is not NULL, their birth stacks (r resolves
 * l->stacks: sample l->birth[i] is row i's). */
#ifndef IX_FORMAT_TASKS_H
#define IX_FORMAT_TASKS_H

#include "model/profile.h"
#include "model/tasks.h"
#include "util/buf.h"

/* Figures, then per kind its states, then one line per task oldest first. */
void ix_tasks_text(const struct ix_task_list *l, const struct ix_resolved *r, ix_buf *b);
/* One JSON object: figures, "kinds" and "tasks" arrays. */
void ix_tasks_json(const struct ix_task_list *l, const struct ix_resolved *r, ix_buf *b);

#endif
