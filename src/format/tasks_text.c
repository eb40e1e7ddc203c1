/* /debug/pprof/tasks as text: the figures, the kinds with their states, and
 * one line per live task (age, state, deadline, thread), its birth stack
 * below it when one was captured. */
#include "format/tasks.h"

#include "format/frames.h"

static void header(const struct ix_task_list *l, ix_buf *b)
{
    ix_buf_printf(b,
                  "tasks: %llu live, %llu overdue; since start %llu started, %llu ended, "
                  "%llu deadline misses, %llu refused at the live limit\n",
                  (unsigned long long)l->all.live, (unsigned long long)l->all.overdue,
                  (unsigned long long)l->all.started, (unsigned long long)l->all.ended,
                  (unsigned long long)l->all.deadline_misses, (unsigned long long)l->dropped);
    if (l->stack_every)
        ix_buf_printf(b, "birth stacks: captured for 1 task in %u\n", l->stack_every);
    else
        ix_buf_puts(b, "birth stacks: off (set INTROSPECT_TASK_STACKS=N to capture 1 in N)\n");
}

static void kind(const struct ix_task_kind_figures *f, ix_buf *b)
{
    ix_buf_printf(b, "\nkind %s: %llu live, %llu overdue, %llu started, %llu ended, "
                     "%llu deadline misses\n",
                  f->kind, (unsigned long long)f->live, (unsigned long long)f->overdue,
                  (unsigned long long)f->started, (unsigned long long)f->ended,
                  (unsigned long long)f->deadline_misses);
    for (size_t i = 0; i < f->nstates; i++)
        ix_buf_printf(b, "  state \"%s\": %llu live, %llu overdue\n", f->states[i].state,
                      (unsigned long long)f->states[i].live,
                      (unsigned long long)f->states[i].overdue);
}

static void task(const struct ix_task_list *l, size_t i, const struct ix_resolved *r, ix_buf *b)
{
    const struct ix_task_row *t = &l->rows[i];
    int64_t now = l->now_ns;
    ix_buf_printf(b, "task %u.%u %s \"%s\" age %.3fs state \"%s\"", t->slot, t->gen, t->kind,
                  t->name, (now - t->begin_ns) / 1e9, t->state);
    if (!t->deadline_ns)
        ix_buf_puts(b, " no deadline");
    else if (ix_task_row_overdue(t, now))
        ix_buf_printf(b, " OVERDUE by %.3fs (deadline was %.3fs after begin)",
                      (now - t->deadline_ns) / 1e9, (t->deadline_ns - t->begin_ns) / 1e9);
    else
        ix_buf_printf(b, " deadline in %.3fs", (t->deadline_ns - now) / 1e9);
    if (t->tid)
        ix_buf_printf(b, " thread %d", (int)t->tid);
    ix_buf_putc(b, '\n');
    if (r && l->birth[i] >= 0) {
        ix_buf_puts(b, "\tborn at:\n");
        ix_frames_text(r, (size_t)l->birth[i], "\t", b);
    }
}

void ix_tasks_text(const struct ix_task_list *l, const struct ix_resolved *r, ix_buf *b)
{
    header(l, b);
    for (size_t k = 0; k < l->nkinds; k++)
        kind(&l->kinds[k], b);
    ix_buf_putc(b, '\n');
    for (size_t i = 0; i < l->n; i++)
        task(l, i, r, b);
}
