#include <stdlib.h>
#include <string.h>

#include "registry/tasks.h"
#include "introspect.h"

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
        return INTROSPECT_ENOMEM;
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

int ix_task_summary_load(struct ix_task_summary *s)
{
    memset(s, 0, sizeof *s);
    if (ix_tasks_snapshot(&s->snap))
        return INTROSPECT_ENOMEM;
    s->ngroups = ix_tasks_group(&s->snap, &s->groups);
    if (s->ngroups < 0) {
        s->ngroups = 0;
        return INTROSPECT_ENOMEM;
    }
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].kind >= 0 && s->groups[i].kind < IX_TASK_MAX_KINDS) {
            s->kinds[s->groups[i].kind].live += s->groups[i].live;
            s->kinds[s->groups[i].kind].overdue += s->groups[i].overdue;
        }
    s->nkinds = ix_task_nkinds();
    for (int k = 0; k < s->nkinds && k < IX_TASK_MAX_KINDS; k++) {
        struct ix_task_kind_view *v = &s->kinds[k];
        ix_task_kind_totals(k, &v->totals);
        s->all.live += v->live;
        s->all.overdue += v->overdue;
        s->all.totals.started += v->totals.started;
        s->all.totals.ended += v->totals.ended;
        s->all.totals.deadline_misses += v->totals.deadline_misses;
    }
    return 0;
}

void ix_task_summary_free(struct ix_task_summary *s)
{
    free(s->groups);
    s->groups = NULL;
    ix_tasks_snapshot_free(&s->snap);
}

void ix_task_kind_json(const struct ix_task_summary *s, int k, introspect_json *j)
{
    const struct ix_task_kind_view *v = &s->kinds[k];
    introspect_json_key(j, "live");
    ix_json_uint(j, v->live);
    introspect_json_key(j, "overdue");
    ix_json_uint(j, v->overdue);
    introspect_json_key(j, "started");
    ix_json_uint(j, v->totals.started);
    introspect_json_key(j, "ended");
    ix_json_uint(j, v->totals.ended);
    introspect_json_key(j, "deadline_misses");
    ix_json_uint(j, v->totals.deadline_misses);
    introspect_json_key(j, "states");
    introspect_json_object_begin(j);
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i].kind == k) {
            introspect_json_key(j, ix_task_state_label(s->groups[i].state));
            ix_json_uint(j, s->groups[i].live);
        }
    introspect_json_object_end(j);
}
