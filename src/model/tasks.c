#include "model/tasks.h"

#include <stdlib.h>
#include <string.h>

size_t ix_tasks_by_thread_range(const struct ix_tasks_by_thread *bt, pid_t tid, size_t *first)
{
    size_t lo = 0, hi = bt->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bt->rows[mid].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (hi < bt->n && bt->rows[hi].tid == tid)
        hi++;
    return hi;
}

int ix_task_row_overdue(const struct ix_task_row *t, int64_t now_ns)
{
    return t->deadline_ns && now_ns > t->deadline_ns;
}

void ix_task_list_free(struct ix_task_list *l)
{
    free(l->kinds);
    free(l->states);
    free(l->rows);
    free(l->birth);
    ix_profile_free(&l->stacks);
    memset(l, 0, sizeof *l);
}
