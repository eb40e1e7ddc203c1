/* Live tasks joined to the threads running them (introspect_task_bind_thread),
 * for the thread dumps: one snapshot turned into model rows sorted by thread
 * id (model/tasks.h), searched per thread by the encoders. */
#include "registry/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

void ix_task_row_of(const struct ix_task_info *t, struct ix_task_row *r)
{
    r->slot = t->slot;
    r->gen = t->gen;
    r->kind = ix_task_kind_name(t->kind);
    r->state = ix_task_state_name(t->state);
    r->tid = t->tid;
    r->begin_ns = t->begin_ns;
    r->deadline_ns = t->deadline_ns;
    memcpy(r->name, t->name, sizeof r->name);
}

/* By tid, then by position in the snapshot (oldest first). */
static int by_task_tid(const void *a, const void *b, void *ctx)
{
    const struct ix_task_info *t = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    pid_t x = t[i].tid, y = t[j].tid;
    if (x != y)
        return (x > y) - (x < y);
    return (i > j) - (i < j);
}

int ix_tasks_by_thread_load(struct ix_tasks_by_thread *bt)
{
    struct ix_task_snapshot snap;
    memset(bt, 0, sizeof *bt);
    if (ix_tasks_snapshot(&snap))
        return INTROSPECT_ENOMEM;
    bt->now_ns = snap.now_ns;
    size_t *order = malloc((snap.n + 1) * sizeof *order);
    bt->rows = malloc((snap.n + 1) * sizeof *bt->rows);
    if (!order || !bt->rows) {
        free(order);
        free(bt->rows);
        bt->rows = NULL;
        ix_tasks_snapshot_free(&snap);
        return INTROSPECT_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < snap.n; i++)
        if (snap.tasks[i].tid)
            order[n++] = i;
    qsort_r(order, n, sizeof *order, by_task_tid, snap.tasks);
    for (size_t i = 0; i < n; i++)
        ix_task_row_of(&snap.tasks[order[i]], &bt->rows[i]);
    bt->n = n;
    free(order);
    ix_tasks_snapshot_free(&snap);
    return 0;
}

void ix_tasks_by_thread_free(struct ix_tasks_by_thread *bt)
{
    free(bt->rows);
    bt->rows = NULL;
    bt->n = 0;
}
