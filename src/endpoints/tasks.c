/* /debug/pprof/tasks: the application's live tasks, oldest first, with age,
 * state, deadline (and how far past it), the thread running them and, when
 * sampled, the stack that began them. Text by default, ?format=json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "format/frames.h"
#include "util/json.h"
#include "format/task_json.h"
#include "registry/tasks.h"

struct view {
    struct ix_task_summary sum;
    struct ix_profile stacks; /* one sample per task with a birth stack */
    int *sample_of;           /* per task: sample index, -1 none */
    struct ix_resolved r;
    int resolved;
};

static int is_overdue(const struct ix_task_info *t, int64_t now)
{
    return t->deadline_ns && now > t->deadline_ns;
}

/* Load the summary, then resolve the birth stacks of the tasks that have one. */
static int view_load(struct view *v)
{
    memset(v, 0, sizeof *v);
    ix_profile_init(&v->stacks, "tasks");
    if (ix_task_summary_load(&v->sum))
        return -1;
    const struct ix_task_snapshot *snap = &v->sum.snap;
    ix_profile_add_type(&v->stacks, "tasks", "count");
    v->sample_of = malloc((snap->n + 1) * sizeof *v->sample_of);
    if (!v->sample_of)
        return -1;
    for (size_t i = 0; i < snap->n; i++) {
        const struct ix_task_info *t = &snap->tasks[i];
        v->sample_of[i] = -1;
        uintptr_t pcs[IX_STACK_MAX_FRAMES];
        int n = t->stack >= 0 ? ix_stack_get(ix_task_stacks(), t->stack, pcs,
                                             IX_STACK_MAX_FRAMES, NULL)
                              : 0;
        if (n > 0) {
            struct ix_label l = {"task", NULL, (int64_t)i, NULL};
            int64_t one = 1;
            size_t before = v->stacks.nsamples;
            ix_profile_add(&v->stacks, pcs, n, &one, &l, 1);
            if (v->stacks.nsamples == before + 1)
                v->sample_of[i] = (int)before;
        }
    }
    if (v->stacks.nsamples && !v->stacks.oom && ix_profile_resolve(&v->stacks, &v->r) == 0)
        v->resolved = 1;
    return 0;
}

static void view_free(struct view *v)
{
    if (v->resolved)
        ix_resolved_free(&v->r);
    ix_profile_free(&v->stacks);
    free(v->sample_of);
    ix_task_summary_free(&v->sum);
}

static void write_text(const struct view *v, ix_buf *b)
{
    const struct ix_task_summary *s = &v->sum;
    unsigned every = ix_tasks_stack_every();
    ix_buf_printf(b,
                  "tasks: %llu live, %llu overdue; since start %llu started, %llu ended, "
                  "%llu deadline misses, %llu refused at the live limit\n",
                  (unsigned long long)s->all.live, (unsigned long long)s->all.overdue,
                  (unsigned long long)s->all.totals.started,
                  (unsigned long long)s->all.totals.ended,
                  (unsigned long long)s->all.totals.deadline_misses,
                  (unsigned long long)ix_tasks_dropped());
    if (every)
        ix_buf_printf(b, "birth stacks: captured for 1 task in %u\n", every);
    else
        ix_buf_puts(b, "birth stacks: off (set INTROSPECT_TASK_STACKS=N to capture 1 in N)\n");
    for (int k = 0; k < s->nkinds; k++) {
        const struct ix_task_kind_view *kv = &s->kinds[k];
        ix_buf_printf(b, "\nkind %s: %llu live, %llu overdue, %llu started, %llu ended, "
                         "%llu deadline misses\n",
                      ix_task_kind_name(k), (unsigned long long)kv->live,
                      (unsigned long long)kv->overdue, (unsigned long long)kv->totals.started,
                      (unsigned long long)kv->totals.ended,
                      (unsigned long long)kv->totals.deadline_misses);
        for (int i = 0; i < s->ngroups; i++)
            if (s->groups[i].kind == k)
                ix_buf_printf(b, "  state \"%s\": %llu live, %llu overdue\n",
                              ix_task_state_label(s->groups[i].state),
                              (unsigned long long)s->groups[i].live,
                              (unsigned long long)s->groups[i].overdue);
    }
    ix_buf_putc(b, '\n');
    for (size_t i = 0; i < s->snap.n; i++) {
        const struct ix_task_info *t = &s->snap.tasks[i];
        int64_t now = s->snap.now_ns;
        ix_buf_printf(b, "task %u.%u %s \"%s\" age %.3fs state \"%s\"", t->slot, t->gen,
                      ix_task_kind_name(t->kind), t->name, (now - t->begin_ns) / 1e9,
                      ix_task_state_name(t->state));
        if (!t->deadline_ns)
            ix_buf_puts(b, " no deadline");
        else if (is_overdue(t, now))
            ix_buf_printf(b, " OVERDUE by %.3fs (deadline was %.3fs after begin)",
                          (now - t->deadline_ns) / 1e9, (t->deadline_ns - t->begin_ns) / 1e9);
        else
            ix_buf_printf(b, " deadline in %.3fs", (t->deadline_ns - now) / 1e9);
        if (t->tid)
            ix_buf_printf(b, " thread %d", (int)t->tid);
        ix_buf_putc(b, '\n');
        if (v->resolved && v->sample_of[i] >= 0) {
            ix_buf_puts(b, "\tborn at:\n");
            ix_frames_text(&v->r, (size_t)v->sample_of[i], "\t", b);
        }
    }
}

static void kinds_json(const struct view *v, introspect_json *j)
{
    introspect_json_array_begin(j);
    for (int k = 0; k < v->sum.nkinds; k++) {
        introspect_json_object_begin(j);
        introspect_json_key(j, "kind");
        introspect_json_string(j, ix_task_kind_name(k));
        ix_task_kind_json(&v->sum, k, j);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void task_json(const struct view *v, size_t i, introspect_json *j)
{
    const struct ix_task_info *t = &v->sum.snap.tasks[i];
    int64_t now = v->sum.snap.now_ns;
    struct ix_task_row row;
    ix_task_row_of(t, &row);
    introspect_json_object_begin(j);
    ix_task_json_head(j, &row, now);
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
    introspect_json_bool(j, is_overdue(t, now));
    introspect_json_key(j, "thread");
    if (t->tid)
        introspect_json_int(j, t->tid);
    else
        introspect_json_null(j);
    introspect_json_key(j, "birth_stack");
    if (v->resolved && v->sample_of[i] >= 0)
        ix_frames_json(&v->r, (size_t)v->sample_of[i], j);
    else
        introspect_json_null(j);
    introspect_json_object_end(j);
}

static void write_json(const struct view *v, ix_buf *b)
{
    introspect_json j;
    ix_json_init(&j, b);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "live");
    ix_json_uint(&j, v->sum.all.live);
    introspect_json_key(&j, "overdue");
    ix_json_uint(&j, v->sum.all.overdue);
    introspect_json_key(&j, "dropped");
    ix_json_uint(&j, ix_tasks_dropped());
    introspect_json_key(&j, "stack_every");
    ix_json_uint(&j, ix_tasks_stack_every());
    introspect_json_key(&j, "kinds");
    kinds_json(v, &j);
    introspect_json_key(&j, "tasks");
    introspect_json_array_begin(&j);
    for (size_t i = 0; i < v->sum.snap.n; i++)
        task_json(v, i, &j);
    introspect_json_array_end(&j);
    introspect_json_object_end(&j);
}

void ix_ep_tasks(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "text")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want text or json)", fmt);
        return;
    }
    struct view v;
    if (view_load(&v)) {
        view_free(&v);
        ix_respond_error(resp, 500, "out of memory while listing tasks");
        return;
    }
    if (fmt && strcmp(fmt, "json") == 0) {
        resp->content_type = "application/json; charset=utf-8";
        write_json(&v, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        write_text(&v, &resp->body);
    }
    view_free(&v);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing tasks");
}
