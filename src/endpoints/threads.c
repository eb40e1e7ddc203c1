/* /debug/pprof/threads (alias /debug/pprof/goroutine) and
 * /debug/pprof/threadcreate: the goroutine and threadcreate profiles of Go,
 * done for the threads of a C process. The profiles are built by
 * sampling/threads/profile.c; the per-thread views (debug=2 text, JSON) are
 * written here from the dump, the resolved frames and the tasks each thread
 * runs (registry/tasks_by_thread.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/serve_profile.h"
#include "format/count_text.h"
#include "registry/tasks_json.h"
#include "format/frames.h"
#include "util/json.h"
#include "introspect.h"
#include "registry/tasks.h"
#include "http/heavy.h"
#include "sampling/threads/blocked_walk.h"
#include "sampling/threads/dump.h"
#include "sampling/threads/profile.h"
#include "endpoints/params.h"
#include "runtime.h"

static const char *status_token(int st)
{
    static const char *const t[] = {"ok", "self", "blocked", "timeout", "exited",
                                    "zombie", "stopped", "nosignal", "limit", "sendfail",
                                    "spared", "walked", "raced"};
    return st >= 0 && st < (int)(sizeof t / sizeof t[0]) ? t[st] : "unknown";
}

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
        const struct ix_task_info *t = &bt->snap.tasks[bt->by_tid[i]];
        ix_buf_printf(b, "#\ttask: %u.%u %s \"%s\" age %.3fs state \"%s\"%s\n", t->slot, t->gen,
                      ix_task_kind_name(t->kind), t->name, (bt->snap.now_ns - t->begin_ns) / 1e9,
                      ix_task_state_name(t->state),
                      t->deadline_ns && bt->snap.now_ns > t->deadline_ns ? " OVERDUE" : "");
    }
}

static void tasks_json(const struct ix_tasks_by_thread *bt, pid_t tid, introspect_json *j)
{
    size_t i, end = ix_tasks_by_thread_range(bt, tid, &i);
    introspect_json_array_begin(j);
    for (; i < end; i++) {
        const struct ix_task_info *t = &bt->snap.tasks[bt->by_tid[i]];
        introspect_json_object_begin(j);
        ix_task_json_head(j, t, bt->snap.now_ns);
        introspect_json_key(j, "overdue");
        introspect_json_bool(j, t->deadline_ns && bt->snap.now_ns > t->deadline_ns);
        introspect_json_object_end(j);
    }
    introspect_json_array_end(j);
}

static void write_debug2(const struct ix_thread_dump *d, const struct ix_resolved *r,
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
    introspect_json_string(j, status_token(e->status));
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

static void write_json(const struct ix_thread_dump *d, const struct ix_resolved *r,
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

/* debug=2 and ?format=json: one entry per thread. */
static void serve_per_thread(const struct ix_thread_dump *d, int json, struct ix_response *resp)
{
    struct ix_profile p;
    struct ix_resolved r;
    if (ix_threads_profile_per_thread(d, &p) || ix_profile_resolve(&p, &r)) {
        ix_profile_free(&p);
        ix_respond_error(resp, 500, "out of memory while building the thread dump");
        return;
    }
    struct ix_tasks_by_thread bt;
    ix_tasks_by_thread_load(&bt); /* on OOM: no tasks shown */
    if (json) {
        resp->content_type = "application/json; charset=utf-8";
        write_json(d, &r, &bt, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        write_debug2(d, &r, &bt, &resp->body);
    }
    ix_tasks_by_thread_free(&bt);
    ix_resolved_free(&r);
    ix_profile_free(&p);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing the thread dump");
}

static void serve_count_text(const struct ix_profile *p, const char *name,
                             struct ix_response *resp)
{
    struct ix_resolved r;
    if (p->oom || ix_profile_resolve(p, &r)) {
        ix_respond_error(resp, 500, "out of memory while building the profile");
        return;
    }
    resp->content_type = "text/plain; charset=utf-8";
    if (ix_count_text_encode(&r, name, 0, &resp->body))
        ix_respond_error(resp, 500, "could not encode the profile");
    ix_resolved_free(&r);
}

void ix_ep_threads(const struct ix_request *req, struct ix_response *resp)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    long timeout_ms;
    long interrupt;
    if (ix_param_long(req, resp, "timeout_ms", 1, 10000, 200, &timeout_ms) ||
        ix_param_long(req, resp, "interrupt", 0, 1, 0, &interrupt))
        return;
    const struct ix_config *cfg = ix_running_config();
    if (interrupt && !(cfg && cfg->allow_interrupt)) {
        ix_respond_error(resp, 400,
                         "interrupt=1 is disabled: it can end the host's blocking calls with EINTR "
                         "(set INTROSPECT_ALLOW_INTERRUPT=1 to allow it)");
        return;
    }
    const char *fmt = ix_param_format(req);
    int debug = ix_param_debug_level(req); /* validated by ix_profile_format_invalid */
    struct ix_thread_dump d;
    /* A dump signals every thread: one of the shared heavy slots. */
    if (ix_heavy_try("thread-dump", timeout_ms, resp))
        return;
    int rc = ix_thread_dump_take(&d, (int)timeout_ms, interrupt ? 0 : IX_DUMP_SPARE_EINTR);
    ix_heavy_done("thread-dump"); /* the rest only formats the copy */
    if (rc == INTROSPECT_EBUSY) { /* a dump taken outside HTTP (the dump signal) */
        ix_respond_error(resp, 409, "another thread dump is running; retry shortly");
        ix_response_header(resp, "Retry-After", "1");
        return;
    }
    if (rc) {
        ix_respond_error(resp, 500, "thread dump failed: %s", introspect_strerror(rc));
        return;
    }
    if ((fmt && strcmp(fmt, "json") == 0) || debug == 2) {
        serve_per_thread(&d, fmt && strcmp(fmt, "json") == 0, resp);
    } else {
        struct ix_profile p;
        if (ix_threads_profile_grouped(&d, &p))
            ix_respond_error(resp, 500, "out of memory while building the profile");
        else if (!fmt && debug == 1)
            serve_count_text(&p, "threads", resp);
        else
            ix_serve_profile(req, resp, &p, "goroutine.pb.gz");
        ix_profile_free(&p);
    }
    ix_thread_dump_free(&d);
}

/* ---- threadcreate ---- */

void ix_ep_threadcreate(const struct ix_request *req, struct ix_response *resp)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    struct ix_profile p;
    if (ix_threadcreate_profile(&p))
        ix_respond_error(resp, 500, "out of memory while building the profile");
    else if (!ix_param_format(req) && ix_param_debug_level(req) != 0)
        serve_count_text(&p, "threadcreate", resp);
    else
        ix_serve_profile(req, resp, &p, "threadcreate.pb.gz");
    ix_profile_free(&p);
}
