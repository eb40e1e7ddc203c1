/* The thread dump as JSON (format/thread_dump.h). */
#include "format/thread_dump.h"

#include <stdio.h>

#include "format/frames.h"
#include "format/task_json.h"
#include "introspect.h"
#include "util/json.h"

static void syscall_json(const struct ix_thread_proc *p, introspect_json *j)
{
    char hex[24];
    introspect_json_object_begin(j);
    introspect_json_key(j, "readable");
    introspect_json_bool(j, p->syscall_readable);
    if (!p->syscall_readable) {
        introspect_json_key(j, "error");
        introspect_json_string(j, p->syscall_err);
    } else if (p->syscall_running) {
        introspect_json_key(j, "running");
        introspect_json_bool(j, 1);
    } else {
        introspect_json_key(j, "nr");
        introspect_json_int(j, p->syscall_nr);
        introspect_json_key(j, "name");
        const char *n = p->syscall_nr >= 0 ? ix_syscall_name(p->syscall_nr) : NULL;
        if (n)
            introspect_json_string(j, n);
        else
            introspect_json_null(j);
        if (p->syscall_nr >= 0) {
            introspect_json_key(j, "args");
            introspect_json_array_begin(j);
            for (int i = 0; i < 6; i++) {
                snprintf(hex, sizeof hex, "%#llx", (unsigned long long)p->syscall_args[i]);
                introspect_json_string(j, hex);
            }
            introspect_json_array_end(j);
        }
        introspect_json_key(j, "pc");
        snprintf(hex, sizeof hex, "%#llx", (unsigned long long)p->syscall_pc);
        introspect_json_string(j, hex);
    }
    introspect_json_object_end(j);
}

static void tasks_json(const struct ix_tasks_by_thread *bt, pid_t tid, introspect_json *j)
{
    size_t i, end = ix_tasks_by_thread_range(bt, tid, &i);
    introspect_json_array_begin(j);
    for (; i < end; i++) {
        const struct ix_task_row *t = &bt->rows[i];
        introspect_json_object_begin(j);
        ix_task_json_head(j, t, bt->now_ns);
        introspect_json_key(j, "overdue");
        introspect_json_bool(j, t->deadline_ns && bt->now_ns > t->deadline_ns);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void thread_json(const struct ix_thread_entry *e, const struct ix_resolved *r, size_t si,
                        const struct ix_tasks_by_thread *bt, introspect_json *j)
{
    const struct ix_thread_proc *p = &e->proc;
    char st[2] = {p->state, 0};
    introspect_json_object_begin(j);
    introspect_json_key(j, "tid");
    introspect_json_int(j, p->tid);
    introspect_json_key(j, "name");
    introspect_json_string(j, p->name);
    introspect_json_key(j, "state");
    introspect_json_string(j, st);
    introspect_json_key(j, "state_name");
    introspect_json_string(j, ix_thread_state_name(p->state));
    introspect_json_key(j, "state_for_seconds");
    if (e->state_for_s >= 0)
        introspect_json_float(j, e->state_for_s);
    else
        introspect_json_null(j);
    introspect_json_key(j, "wchan");
    if (p->wchan[0])
        introspect_json_string(j, p->wchan);
    else
        introspect_json_null(j);
    introspect_json_key(j, "syscall");
    syscall_json(p, j);
    introspect_json_key(j, "cpu_user_seconds");
    introspect_json_float(j, p->cpu_user_s);
    introspect_json_key(j, "cpu_system_seconds");
    introspect_json_float(j, p->cpu_sys_s);
    introspect_json_key(j, "tasks");
    tasks_json(bt, p->tid, j);
    introspect_json_key(j, "stack_status");
    introspect_json_string(j, ix_stack_status_token(e->status));
    introspect_json_key(j, "stack_reason");
    introspect_json_string(j, ix_stack_status_text(e->status));
    introspect_json_key(j, "stack_walk_end"); /* walked threads: why the walk stopped */
    if (e->status == IX_STACK_WALKED)
        introspect_json_string(j, ix_walk_end_text(e->walk_end));
    else
        introspect_json_null(j);
    introspect_json_key(j, "frames");
    ix_frames_json(r, si, j);
    introspect_json_object_end(j);
}

void ix_thread_dump_json(const struct ix_thread_dump *d, const struct ix_resolved *r,
                       const struct ix_tasks_by_thread *bt, ix_buf *b)
{
    introspect_json j;
    ix_json_init(&j, b);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "time_nanos");
    introspect_json_int(&j, d->time_ns);
    introspect_json_key(&j, "threads_total");
    introspect_json_int(&j, d->total);
    introspect_json_key(&j, "dump_signal");
    introspect_json_int(&j, d->signal);
    introspect_json_key(&j, "signal_problem");
    if (d->signal_problem[0])
        introspect_json_string(&j, d->signal_problem);
    else
        introspect_json_null(&j);
    introspect_json_key(&j, "timeout_ms");
    introspect_json_int(&j, d->timeout_ms);
    introspect_json_key(&j, "capture_seconds");
    introspect_json_float(&j, d->duration_ns / 1e9);
    introspect_json_key(&j, "threads");
    introspect_json_array_begin(&j);
    for (int i = 0; i < d->n; i++)
        thread_json(&d->threads[i], r, (size_t)i, bt, &j);
    introspect_json_array_end(&j);
    introspect_json_object_end(&j);
}
