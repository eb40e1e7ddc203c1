#include "model/tasks.h"

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
