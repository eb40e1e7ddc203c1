/* Live tasks joined to the threads running them (introspect_task_bind_thread),
 * for the thread dumps: one snapshot sorted by thread id, searched per thread. */
#include "registry/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

static int by_task_tid(const void *a, const void *b, void *ctx)
{
    const struct ix_task_info *t = ctx;
    pid_t x = t[*(const size_t *)a].tid, y = t[*(const size_t *)b].tid;
    return (x > y) - (x < y);
}

int ix_tasks_by_thread_load(struct ix_tasks_by_thread *bt)
{
    memset(bt, 0, sizeof *bt);
    if (ix_tasks_snapshot(&bt->snap))
        return INTROSPECT_ENOMEM;
    bt->by_tid = malloc((bt->snap.n + 1) * sizeof *bt->by_tid);
    if (!bt->by_tid)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < bt->snap.n; i++)
        if (bt->snap.tasks[i].tid)
            bt->by_tid[bt->n++] = i;
    qsort_r(bt->by_tid, bt->n, sizeof *bt->by_tid, by_task_tid, bt->snap.tasks);
    return 0;
}

void ix_tasks_by_thread_free(struct ix_tasks_by_thread *bt)
{
    free(bt->by_tid);
    ix_tasks_snapshot_free(&bt->snap);
}

size_t ix_tasks_by_thread_range(const struct ix_tasks_by_thread *bt, pid_t tid, size_t *first)
{
    size_t lo = 0, hi = bt->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bt->snap.tasks[bt->by_tid[mid]].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (hi < bt->n && bt->snap.tasks[bt->by_tid[hi]].tid == tid)
        hi++;
    return hi;
}
