#include <stdlib.h>

#include "registry/tasks.h"

static int by_kind_state(const void *a, const void *b)
{
    const struct ix_task_info *x = *(const struct ix_task_info *const *)a;
    const struct ix_task_info *y = *(const struct ix_task_info *const *)b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->state > y->state) - (x->state < y->state);
}

int ix_tasks_group(const struct ix_task_snapshot *s, struct ix_task_group **out)
{
    *out = NULL;
    const struct ix_task_info **v = malloc((s->n + 1) * sizeof *v);
    struct ix_task_group *g = malloc((s->n + 1) * sizeof *g);
    if (!v || !g) {
        free(v);
        free(g);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        v[i] = &s->tasks[i];
    qsort(v, s->n, sizeof *v, by_kind_state);
    int n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!n || g[n - 1].kind != v[i]->kind || g[n - 1].state != v[i]->state)
            g[n++] = (struct ix_task_group){v[i]->kind, v[i]->state, 0, 0};
        g[n - 1].live++;
        if (v[i]->deadline_ns && s->now_ns > v[i]->deadline_ns)
            g[n - 1].overdue++;
    }
    free(v);
    *out = g;
    return n;
}
