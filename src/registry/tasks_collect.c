/* Tasks in /metrics and the "tasks" key of /debug/vars. */
#include "collectors.h"
#include "registry/tasks.h"

/* (kind, state) pairs ever seen live, [kind][state + 1]: once a series of
 * introspect_tasks_by_state has been scraped it is written at every scrape
 * after, 0 when no task is in that state, so it never goes stale between
 * scrapes (a vanishing series breaks rate() and leaves stale markers). */
static unsigned char g_seen[IX_TASK_MAX_KINDS][IX_TASK_MAX_STATES + 1];

static int seen(int kind, int state)
{
    return __atomic_load_n(&g_seen[kind][state + 1], __ATOMIC_RELAXED);
}

static void by_state(struct ix_mset *set, const struct ix_task_summary *s)
{
    struct ix_mfamily *bs = ix_mset_family(set, "introspect_tasks_by_state",
                                           "Live tasks by kind and state text", IX_GAUGE);
    static const char *const names[2] = {"kind", "state"};
    for (int i = 0; i < s->ngroups; i++) {
        int k = s->groups[i].kind, st = s->groups[i].state;
        if (k >= 0 && k < IX_TASK_MAX_KINDS && st >= -1 && st < IX_TASK_MAX_STATES)
            __atomic_store_n(&g_seen[k][st + 1], 1, __ATOMIC_RELAXED);
    }
    int g = 0; /* groups are sorted by kind, then state */
    for (int k = 0; k < s->nkinds && k < IX_TASK_MAX_KINDS; k++)
        for (int st = -1; st < IX_TASK_MAX_STATES; st++) {
            uint64_t live = 0;
            for (; g < s->ngroups && (s->groups[g].kind < k ||
                                      (s->groups[g].kind == k && s->groups[g].state <= st));
                 g++)
                if (s->groups[g].kind == k && s->groups[g].state == st)
                    live += s->groups[g].live;
            if (!seen(k, st))
                continue;
            const char *vals[2] = {ix_task_kind_name(k), ix_task_state_label(st)};
            ix_mset_value(set, bs, names, vals, 2, (double)live);
        }
}

void ix_collect_tasks(struct ix_mset *set)
{
    struct ix_task_summary s;
    int ok = ix_task_summary_load(&s) == 0;
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
    for (int k = 0; ok && k < s.nkinds; k++) {
        const struct ix_task_kind_view *v = &s.kinds[k];
        const char *kind = ix_task_kind_name(k);
        ix_mset_value1(set, live, "kind", kind, (double)v->live);
        ix_mset_value1(set, over, "kind", kind, (double)v->overdue);
        ix_mset_value1(set, st, "kind", kind, (double)v->totals.started);
        ix_mset_value1(set, en, "kind", kind, (double)v->totals.ended);
        ix_mset_value1(set, miss, "kind", kind, (double)v->totals.deadline_misses);
    }
    if (ok)
        by_state(set, &s);
    else
        ix_mset_family(set, "introspect_tasks_by_state", "Live tasks by kind and state text",
                       IX_GAUGE);
    struct ix_mfamily *dr = ix_mset_family(set, "introspect_tasks_dropped_total",
                                           "Task begins refused because max_tasks were live",
                                           IX_COUNTER);
    ix_mset_value0(set, dr, (double)ix_tasks_dropped());
    ix_task_summary_free(&s);
}

void ix_vars_tasks(introspect_json *j)
{
    struct ix_task_summary s;
    if (ix_task_summary_load(&s)) {
        ix_task_summary_free(&s);
        introspect_json_null(j);
        return;
    }
    introspect_json_object_begin(j);
    introspect_json_key(j, "kinds");
    introspect_json_object_begin(j);
    for (int k = 0; k < s.nkinds; k++) {
        introspect_json_key(j, ix_task_kind_name(k));
        introspect_json_object_begin(j);
        ix_task_kind_json(&s, k, j);
        introspect_json_object_end(j);
    }
    introspect_json_object_end(j);
    const struct ix_task_kind_view *a = &s.all;
    uint64_t tot[5] = {a->live, a->overdue, a->totals.started, a->totals.ended,
                       a->totals.deadline_misses};
    static const char *const keys[5] = {"live", "overdue", "started", "ended",
                                        "deadline_misses"};
    for (int i = 0; i < 5; i++) {
        introspect_json_key(j, keys[i]);
        ix_json_uint(j, tot[i]);
    }
    introspect_json_key(j, "dropped");
    ix_json_uint(j, ix_tasks_dropped());
    introspect_json_object_end(j);
    ix_task_summary_free(&s);
}
