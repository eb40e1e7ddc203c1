/* The thread dump as text (format/thread_dump.h): Go's goroutine debug=2
 * layout, each thread's /proc facts and tasks as "#\t" comment lines above
 * its frames. */
#include "format/thread_dump.h"

#include "format/frames.h"

static void syscall_text(const struct ix_thread_proc *p, ix_buf *b)
{
    if (!p->syscall_readable)
        ix_buf_puts(b, p->syscall_err[0] ? p->syscall_err : "unknown");
    else if (p->syscall_running)
        ix_buf_puts(b, "none (running)");
    else if (p->syscall_nr < 0)
        ix_buf_puts(b, "none (blocked outside a system call)");
    else {
        const char *n = ix_syscall_name(p->syscall_nr);
        if (n)
            ix_buf_puts(b, n);
        else
            ix_buf_printf(b, "syscall_%d", p->syscall_nr);
        ix_buf_printf(b, "(%#llx, %#llx, %#llx, ...)", (unsigned long long)p->syscall_args[0],
                      (unsigned long long)p->syscall_args[1],
                      (unsigned long long)p->syscall_args[2]);
    }
}

static void tasks_text(const struct ix_tasks_by_thread *bt, pid_t tid, ix_buf *b)
{
    size_t i, end = ix_tasks_by_thread_range(bt, tid, &i);
    for (size_t shown = 0; i < end; i++, shown++) {
        if (shown == 4) {
            ix_buf_printf(b, "#\ttask: ... and %zu more\n", end - i);
            break;
        }
        const struct ix_task_row *t = &bt->rows[i];
        ix_buf_printf(b, "#\ttask: %u.%u %s \"%s\" age %.3fs state \"%s\"%s\n", t->slot, t->gen,
                      t->kind, t->name, (bt->now_ns - t->begin_ns) / 1e9, t->state,
                      t->deadline_ns && bt->now_ns > t->deadline_ns ? " OVERDUE" : "");
    }
}

void ix_thread_dump_text(const struct ix_thread_dump *d, const struct ix_resolved *r,
                         const struct ix_tasks_by_thread *bt, ix_buf *b)
{
    ix_buf_printf(b, "threads: %d, captured in %.1f ms", d->total, d->duration_ns / 1e6);
    if (d->signal)
        ix_buf_printf(b, " (dump signal %d, timeout %d ms)\n", d->signal, d->timeout_ms);
    else
        ix_buf_printf(b, " (no stacks: %s)\n", d->signal_problem);
    ix_buf_putc(b, '\n');
    for (int i = 0; i < d->n; i++) {
        const struct ix_thread_entry *e = &d->threads[i];
        const struct ix_thread_proc *p = &e->proc;
        ix_buf_printf(b, "thread %d \"%s\" [%s", (int)p->tid, p->name,
                      ix_thread_state_name(p->state));
        if (e->state_for_s >= 0)
            ix_buf_printf(b, ", >= %.3fs", e->state_for_s);
        ix_buf_puts(b, "]:\n#\tstate: ");
        ix_buf_printf(b, "%c (%s), for ", p->state, ix_thread_state_name(p->state));
        if (e->state_for_s >= 0)
            ix_buf_printf(b, "at least %.3fs (unchanged since an earlier dump)", e->state_for_s);
        else
            ix_buf_puts(b, "an unknown time (not seen in this state by the previous dump)");
        ix_buf_printf(b, "\n#\twchan: %s\n#\tsyscall: ", p->wchan[0] ? p->wchan : "-");
        syscall_text(p, b);
        ix_buf_printf(b, "\n#\tcpu: user %.3fs, system %.3fs\n", p->cpu_user_s, p->cpu_sys_s);
        tasks_text(bt, p->tid, b);
        if (e->status == IX_STACK_SELF)
            ix_buf_puts(b, "#\tstack: this is the thread taking the dump\n");
        if (e->status == IX_STACK_WALKED)
            ix_buf_printf(b, "#\tstack: walked without a signal (blocked); %s\n",
                          ix_walk_end_text(e->walk_end));
        if (!ix_thread_has_stack(e))
            ix_buf_printf(b, "#\tstack: none: %s%s\n", ix_stack_status_text(e->status),
                          p->syscall_pc ? " (showing the pc of its system call only)" : "");
        ix_frames_text(r, (size_t)i, "", b);
        ix_buf_putc(b, '\n');
    }
}
