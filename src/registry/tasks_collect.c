/* Tasks in /metrics and the "tasks" key of /debug/vars. */
#include <stdlib.h>

#include "collectors.h"
#include "registry/tasks.h"

struct kind_sum {
    uint64_t live, overdue;
};

static void sum_kinds(const struct ix_task_group *g, int ng, struct kind_sum *ks)
{
    for (int i = 0; i < ng; i++)
        if (g[i].kind >= 0 && g[i].kind < IX_TASK_MAX_KINDS) {
            ks[g[i].kind].live += g[i].live;
            ks[g[i].kind].overdue += g[i].overdue;
        }
}

void ix_collect_tasks(struct ix_mset *set)
{
    struct ix_task_snapshot snap;
    struct ix_task_group *g = NULL;
    struct kind_sum ks[IX_TASK_MAX_KINDS] = {{0, 0}};
    int ng = ix_tasks_snapshot(&snap) == 0 ? ix_tasks_group(&snap, &g) : -1;
    if (ng > 0)
        sum_kinds(g, ng, ks);
    int nk = ix_task_nkinds();
    struct ix_mfamily *live = ix_mset_family(set, "introspect_tasks_live",
                                             "Tasks begun and not yet ended", IX_GAUGE);
    struct ix_mfamily *over = ix_mset_family(set, "introspect_tasks_overdue",
                                             "Live tasks past their deadline", IX_GAUGE);
    struct ix_mfamily *st = ix_mset_family(set, "introspect_tasks_started_total",
                                           "Tasks begun", IX_COUNTER);
    struct ix_mfamily *en = ix_mset_family(set, "introspect_tasks_ended_total",
                                           "Tasks ended", IX_COUNTER);
    struct ix_mfamily *miss = ix_mset_family(
        set, "introspect_tasks_deadline_misses_total",
        "Tasks that ran past their deadline (counted when ended late or first seen overdue)",
        IX_COUNTER);
    for (int k = 0; k < nk; k++) {
        struct ix_task_totals t;
        ix_task_kind_totals(k, &t);
        const char *kind = ix_task_kind_name(k);
        ix_mset_value1(set, live, "kind", kind, (double)ks[k].live);
        ix_mset_value1(set, over, "kind", kind, (double)ks[k].overdue);
        ix_mset_value1(set, st, "kind", kind, (double)t.started);
        ix_mset_value1(set, en, "kind", kind, (double)t.ended);
        ix_mset_value1(set, miss, "kind", kind, (double)t.deadline_misses);
    }
    struct ix_mfamily *bs = ix_mset_family(set, "introspect_tasks_by_state",
                                           "Live tasks by kind and state text", IX_GAUGE);
    static const char *const names[2] = {"kind", "state"};
    for (int i = 0; i < ng; i++) {
        const char *vals[2] = {ix_task_kind_name(g[i].kind), ix_task_state_label(g[i].state)};
        ix_mset_value(set, bs, names, vals, 2, (double)g[i].live);
    }
    struct ix_mfamily *dr = ix_mset_family(set, "introspect_tasks_dropped_total",
                                           "Task begins refused because max_tasks were live",
                                           IX_COUNTER);
    ix_mset_value0(set, dr, (double)ix_tasks_dropped());
    free(g);
    if (ng >= 0)
        ix_tasks_snapshot_free(&snap);
}

void ix_vars_tasks(introspect_json *j)
{
    struct ix_task_snapshot snap;
    struct ix_task_group *g = NULL;
    struct kind_sum ks[IX_TASK_MAX_KINDS] = {{0, 0}};
    int ng = ix_tasks_snapshot(&snap) == 0 ? ix_tasks_group(&snap, &g) : -1;
    if (ng > 0)
        sum_kinds(g, ng, ks);
    uint64_t tot[5] = {0};
    introspect_json_object_begin(j);
    introspect_json_key(j, "kinds");
    introspect_json_object_begin(j);
    for (int k = 0; k < ix_task_nkinds(); k++) {
        struct ix_task_totals t;
        ix_task_kind_totals(k, &t);
        introspect_json_key(j, ix_task_kind_name(k));
        introspect_json_object_begin(j);
        introspect_json_key(j, "live");
        ix_json_uint(j, ks[k].live);
        introspect_json_key(j, "overdue");
        ix_json_uint(j, ks[k].overdue);
        introspect_json_key(j, "started");
        ix_json_uint(j, t.started);
        introspect_json_key(j, "ended");
        ix_json_uint(j, t.ended);
        introspect_json_key(j, "deadline_misses");
        ix_json_uint(j, t.deadline_misses);
        introspect_json_key(j, "states");
        introspect_json_object_begin(j);
        for (int i = 0; i < ng; i++)
            if (g[i].kind == k) {
                introspect_json_key(j, ix_task_state_label(g[i].state));
                ix_json_uint(j, g[i].live);
            }
        introspect_json_object_end(j);
        introspect_json_object_end(j);
        uint64_t add[5] = {ks[k].live, ks[k].overdue, t.started, t.ended, t.deadline_misses};
        for (int i = 0; i < 5; i++)
            tot[i] += add[i];
    }
    introspect_json_object_end(j);
    static const char *const keys[5] = {"live", "overdue", "started", "ended",
                                        "deadline_misses"};
    for (int i = 0; i < 5; i++) {
        introspect_json_key(j, keys[i]);
        ix_json_uint(j, tot[i]);
    }
    introspect_json_key(j, "dropped");
    ix_json_uint(j, ix_tasks_dropped());
    introspect_json_object_end(j);
    free(g);
    if (ng >= 0)
        ix_tasks_snapshot_free(&snap);
}
