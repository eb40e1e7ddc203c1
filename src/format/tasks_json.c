/* /debug/pprof/tasks?format=json: the figures, one object per kind (its
 * figures and live tasks by state) and one per live task, oldest first. */
#include "format/tasks.h"

#include "format/frames.h"
#include "format/task_json.h"
#include "util/json.h"

static void kind(const struct ix_task_kind_figures *f, introspect_json *j)
{
    introspect_json_object_begin(j);
    introspect_json_key(j, "kind");
    introspect_json_string(j, f->kind);
    introspect_json_key(j, "live");
    ix_json_uint(j, f->live);
    introspect_json_key(j, "overdue");
    ix_json_uint(j, f->overdue);
    introspect_json_key(j, "started");
    ix_json_uint(j, f->started);
    introspect_json_key(j, "ended");
    ix_json_uint(j, f->ended);
    introspect_json_key(j, "deadline_misses");
    ix_json_uint(j, f->deadline_misses);
    introspect_json_key(j, "states");
    introspect_json_object_begin(j);
    for (size_t i = 0; i < f->nstates; i++) {
        introspect_json_key(j, f->states[i].state);
        ix_json_uint(j, f->states[i].live);
    }
    introspect_json_object_end(j);
    introspect_json_object_end(j);
}

static void task(const struct ix_task_list *l, size_t i, const struct ix_resolved *r,
                 introspect_json *j)
{
    const struct ix_task_row *t = &l->rows[i];
    int64_t now = l->now_ns;
    introspect_json_object_begin(j);
    ix_task_json_head(j, t, now);
    introspect_json_key(j, "deadline_seconds"); /* from begin */
    if (t->deadline_ns)
        introspect_json_float(j, (t->deadline_ns - t->begin_ns) / 1e9);
    else
        introspect_json_null(j);
    introspect_json_key(j, "overdue_seconds"); /* > 0: past the deadline by this much */
    if (t->deadline_ns)
        introspect_json_float(j, (now - t->deadline_ns) / 1e9);
    else
        introspect_json_null(j);
    introspect_json_key(j, "overdue");
    introspect_json_bool(j, ix_task_row_overdue(t, now));
    introspect_json_key(j, "thread");
    if (t->tid)
        introspect_json_int(j, t->tid);
    else
        introspect_json_null(j);
    introspect_json_key(j, "birth_stack");
    if (r && l->birth[i] >= 0)
        ix_frames_json(r, (size_t)l->birth[i], j);
    else
        introspect_json_null(j);
    introspect_json_object_end(j);
}

void ix_tasks_json(const struct ix_task_list *l, const struct ix_resolved *r, ix_buf *b)
{
    introspect_json j;
    ix_json_init(&j, b);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "live");
    ix_json_uint(&j, l->all.live);
    introspect_json_key(&j, "overdue");
    ix_json_uint(&j, l->all.overdue);
    introspect_json_key(&j, "dropped");
    ix_json_uint(&j, l->dropped);
    introspect_json_key(&j, "stack_every");
    ix_json_uint(&j, l->stack_every);
    introspect_json_key(&j, "kinds");
    introspect_json_array_begin(&j);
    for (size_t k = 0; k < l->nkinds; k++)
        kind(&l->kinds[k], &j);
    introspect_json_array_end(&j);
    introspect_json_key(&j, "tasks");
    introspect_json_array_begin(&j);
    for (size_t i = 0; i < l->n; i++)
        task(l, i, r, &j);
    introspect_json_array_end(&j);
    introspect_json_object_end(&j);
}
