/* The tasks endpoint's model (model/tasks.h): one summary of the registry
 * turned into rows with their names resolved, figures per kind, and the
 * birth stacks of the tasks that have one as a profile of one sample each. */
#include "registry/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

static void figures_of(struct ix_task_kind_figures *f, const char *kind,
                       const struct ix_task_kind_view *v)
{
    f->kind = kind;
    f->live = v->live;
    f->overdue = v->overdue;
    f->started = v->totals.started;
    f->ended = v->totals.ended;
    f->deadline_misses = v->totals.deadline_misses;
}

/* Kinds and their (state, live, overdue) groups; groups are sorted by kind. */
static int load_kinds(struct ix_task_list *l, const struct ix_task_summary *s)
{
    l->kinds = calloc((size_t)s->nkinds + 1, sizeof *l->kinds);
    l->states = calloc((size_t)s->ngroups + 1, sizeof *l->states);
    if (!l->kinds || !l->states)
        return INTROSPECT_ENOMEM;
    figures_of(&l->all, NULL, &s->all);
    size_t g = 0;
    for (int k = 0; k < s->nkinds; k++) {
        struct ix_task_kind_figures *f = &l->kinds[k];
        figures_of(f, ix_task_kind_name(k), &s->kinds[k]);
        f->states = &l->states[g];
        for (int i = 0; i < s->ngroups; i++)
            if (s->groups[i].kind == k) {
                l->states[g++] = (struct ix_task_state_count){
                    ix_task_state_label(s->groups[i].state), s->groups[i].live,
                    s->groups[i].overdue};
                f->nstates++;
            }
    }
    l->nkinds = (size_t)s->nkinds;
    return 0;
}

/* One sample per task with a birth stack, labelled with its row. */
static int load_rows(struct ix_task_list *l, const struct ix_task_snapshot *snap)
{
    l->rows = malloc((snap->n + 1) * sizeof *l->rows);
    l->birth = malloc((snap->n + 1) * sizeof *l->birth);
    if (!l->rows || !l->birth)
        return INTROSPECT_ENOMEM;
    ix_profile_add_type(&l->stacks, "tasks", "count");
    for (size_t i = 0; i < snap->n; i++) {
        const struct ix_task_info *t = &snap->tasks[i];
        ix_task_row_of(t, &l->rows[i]);
        l->birth[i] = -1;
        uintptr_t pcs[IX_STACK_MAX_FRAMES];
        int n = t->stack >= 0 ? ix_stack_get(ix_task_stacks(), t->stack, pcs,
                                             IX_STACK_MAX_FRAMES, NULL)
                              : 0;
        if (n > 0) {
            struct ix_label lb = {"task", NULL, (int64_t)i, NULL};
            int64_t one = 1;
            size_t before = l->stacks.nsamples;
            ix_profile_add(&l->stacks, pcs, n, &one, &lb, 1);
            if (l->stacks.nsamples == before + 1)
                l->birth[i] = (int)before;
        }
    }
    l->n = snap->n;
    return 0;
}

int ix_task_list_load(struct ix_task_list *l)
{
    memset(l, 0, sizeof *l);
    ix_profile_init(&l->stacks, "tasks");
    struct ix_task_summary s;
    int rc = ix_task_summary_load(&s);
    if (rc == 0) {
        l->now_ns = s.snap.now_ns;
        l->dropped = ix_tasks_dropped();
        l->stack_every = ix_tasks_stack_every();
        rc = load_kinds(l, &s);
    }
    if (rc == 0)
        rc = load_rows(l, &s.snap);
    ix_task_summary_free(&s);
    return rc;
}
