/* /debug/pprof/threads (alias /debug/pprof/goroutine) and
 * /debug/pprof/threadcreate: the goroutine and threadcreate profiles of Go,
 * done for the threads of a C process.
 *
 * Thread names in the pprof output: samples are one per distinct stack (a
 * label per thread would split them), so each sample carries labels that
 * summarise its threads: "thread" lists their names ("worker*3,main"), and
 * "state" their states ("sleeping*2,running"). Threads whose stack could not
 * be captured are their own samples with a "missing" label saying why; their
 * stack is the user-space pc of the system call they block in when /proc
 * shows it, else empty. */
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
#include "util/clock.h"
#include "sampling/threads/create.h"
#include "registry/tasks.h"
#include "sampling/threads/dump.h"

#define LABEL_MAX 256

/* The stack shown for a thread: its unwound frames, or the pc of the system
 * call it blocks in (one frame) when it could not be unwound. */
static int thread_stack(const struct ix_thread_entry *e, const uintptr_t **pcs, uintptr_t *one)
{
    if (e->npcs > 0) {
        *pcs = e->pcs;
        return e->npcs;
    }
    if (e->proc.syscall_pc) {
        *one = e->proc.syscall_pc;
        *pcs = one;
        return 1;
    }
    *pcs = one;
    return 0;
}

static int has_stack(const struct ix_thread_entry *e)
{
    return e->status == IX_STACK_OK || e->status == IX_STACK_SELF;
}

/* ---- grouping by stack ---- */

/* Order by (captured or why not, stack); equal means the same group. */
static int stack_cmp(const struct ix_thread_entry *x, const struct ix_thread_entry *y)
{
    int kx = has_stack(x) ? -1 : x->status, ky = has_stack(y) ? -1 : y->status;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    uintptr_t ox, oy;
    const uintptr_t *px, *py;
    int nx = thread_stack(x, &px, &ox), ny = thread_stack(y, &py, &oy);
    if (nx != ny)
        return nx < ny ? -1 : 1;
    for (int i = 0; i < nx; i++)
        if (px[i] != py[i])
            return px[i] < py[i] ? -1 : 1;
    return 0;
}

static int by_stack(const void *a, const void *b, void *ctx)
{
    const struct ix_thread_dump *d = ctx;
    return stack_cmp(&d->threads[*(const int *)a], &d->threads[*(const int *)b]);
}

/* "a*3,b" from the sorted values of a group (NULL-free strings). */
static void summarise(char *out, const char **vals, int n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n;) {
        int k = i;
        while (k < n && strcmp(vals[k], vals[i]) == 0)
            k++;
        char part[80];
        int pl = k - i > 1 ? snprintf(part, sizeof part, "%s%s*%d", len ? "," : "",
                                      vals[i][0] ? vals[i] : "?", k - i)
                           : snprintf(part, sizeof part, "%s%s", len ? "," : "",
                                      vals[i][0] ? vals[i] : "?");
        if (pl < 0 || len + (size_t)pl + 4 >= LABEL_MAX) {
            strcpy(out + len, ",...");
            return;
        }
        memcpy(out + len, part, (size_t)pl + 1);
        len += (size_t)pl;
        i = k;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_group(struct ix_profile *p, const struct ix_thread_dump *d, const int *members,
                      int n, const char **scratch)
{
    char names[LABEL_MAX], states[LABEL_MAX];
    for (int i = 0; i < n; i++)
        scratch[i] = d->threads[members[i]].proc.name;
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_str);
    summarise(names, scratch, n);
    for (int i = 0; i < n; i++)
        scratch[i] = ix_thread_state_name(d->threads[members[i]].proc.state);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_str);
    summarise(states, scratch, n);
    const struct ix_thread_entry *e = &d->threads[members[0]];
    struct ix_label labels[3] = {{"thread", names, 0, NULL}, {"state", states, 0, NULL}};
    int nl = 2;
    if (!has_stack(e))
        labels[nl++] = (struct ix_label){"missing", ix_stack_status_text(e->status), 0, NULL};
    uintptr_t one = 0;
    const uintptr_t *pcs;
    int npcs = thread_stack(e, &pcs, &one);
    int64_t v = n;
    ix_profile_add(p, pcs, npcs, &v, labels, nl);
}

static void profile_header(struct ix_profile *p, const struct ix_thread_dump *d)
{
    ix_profile_add_type(p, "goroutine", "count");
    p->period_type = (struct ix_value_type){"goroutine", "count"};
    p->period = 1;
    p->time_nanos = d->time_ns;
    ix_profile_comment(p, "threads: %d, captured in %.1f ms", d->total, d->duration_ns / 1e6);
    if (d->signal_problem[0])
        ix_profile_comment(p, "%s", d->signal_problem);
    if (d->total > d->n)
        ix_profile_comment(p, "%d threads not listed (limit %d)", d->total - d->n, d->n);
}

/* One sample per distinct stack, value = threads with it. */
static int build_grouped(const struct ix_thread_dump *d, struct ix_profile *p)
{
    ix_profile_init(p, "goroutine");
    profile_header(p, d);
    int *order = malloc(((size_t)d->n + 1) * sizeof *order);
    const char **scratch = malloc(((size_t)d->n + 1) * sizeof *scratch);
    if (!order || !scratch) {
        free(order);
        free(scratch);
        return -1;
    }
    for (int i = 0; i < d->n; i++)
        order[i] = i;
    qsort_r(order, (size_t)d->n, sizeof *order, by_stack, (void *)d);
    for (int i = 0; i < d->n;) {
        int k = i + 1;
        while (k < d->n && by_stack(&order[i], &order[k], (void *)d) == 0)
            k++;
        add_group(p, d, order + i, k - i, scratch);
        i = k;
    }
    free(order);
    free(scratch);
    return p->oom ? -1 : 0;
}

/* One sample per thread (a numeric "tid" label keeps them apart), in dump
 * order: the per-thread views resolve their frames through it. */
static int build_per_thread(const struct ix_thread_dump *d, struct ix_profile *p)
{
    ix_profile_init(p, "goroutine");
    profile_header(p, d);
    for (int i = 0; i < d->n; i++) {
        const struct ix_thread_entry *e = &d->threads[i];
        uintptr_t one = 0;
        const uintptr_t *pcs;
        int npcs = thread_stack(e, &pcs, &one);
        struct ix_label l = {"tid", NULL, e->proc.tid, NULL};
        int64_t v = 1;
        ix_profile_add(p, pcs, npcs, &v, &l, 1);
    }
    return p->oom || p->nsamples != (size_t)d->n ? -1 : 0;
}

static const char *status_token(int st)
{
    static const char *const t[] = {"ok", "self", "blocked", "timeout", "exited",
                                    "zombie", "stopped", "nosignal", "limit", "sendfail",
                                    "spared"};
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

/* ---- the tasks each thread runs (introspect_task_bind_thread) ---- */

struct bound_tasks {
    struct ix_task_snapshot snap;
    size_t *by_tid; /* indices into snap.tasks with a thread, sorted by tid */
    size_t n;
};

static int by_task_tid(const void *a, const void *b, void *ctx)
{
    const struct ix_task_info *t = ctx;
    pid_t x = t[*(const size_t *)a].tid, y = t[*(const size_t *)b].tid;
    return (x > y) - (x < y);
}

static void bound_load(struct bound_tasks *bt)
{
    memset(bt, 0, sizeof *bt);
    if (ix_tasks_snapshot(&bt->snap))
        return;
    bt->by_tid = malloc((bt->snap.n + 1) * sizeof *bt->by_tid);
    if (!bt->by_tid)
        return;
    for (size_t i = 0; i < bt->snap.n; i++)
        if (bt->snap.tasks[i].tid)
            bt->by_tid[bt->n++] = i;
    qsort_r(bt->by_tid, bt->n, sizeof *bt->by_tid, by_task_tid, bt->snap.tasks);
}

static void bound_free(struct bound_tasks *bt)
{
    free(bt->by_tid);
    ix_tasks_snapshot_free(&bt->snap);
}

/* The range [*first, return) of by_tid whose tasks run on tid. */
static size_t bound_range(const struct bound_tasks *bt, pid_t tid, size_t *first)
{
    size_t lo = 0, hi = bt->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bt->snap.tasks[bt->by_tid[mid]].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (hi < bt->n && bt->snap.tasks[bt->by_tid[hi]].tid == tid)
        hi++;
    return hi;
}

static void tasks_text(const struct bound_tasks *bt, pid_t tid, ix_buf *b)
{
    size_t i, end = bound_range(bt, tid, &i);
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

static void tasks_json(const struct bound_tasks *bt, pid_t tid, introspect_json *j)
{
    size_t i, end = bound_range(bt, tid, &i);
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
                         const struct bound_tasks *bt, ix_buf *b)
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
        if (!has_stack(e))
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
                        const struct bound_tasks *bt, introspect_json *j)
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
    introspect_json_key(j, "frames");
    ix_frames_json(r, si, j);
    introspect_json_object_end(j);
}

static void write_json(const struct ix_thread_dump *d, const struct ix_resolved *r,
                       const struct bound_tasks *bt, ix_buf *b)
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
    if (build_per_thread(d, &p) || ix_profile_resolve(&p, &r)) {
        ix_profile_free(&p);
        ix_respond_error(resp, 500, "out of memory while building the thread dump");
        return;
    }
    struct bound_tasks bt;
    bound_load(&bt);
    if (json) {
        resp->content_type = "application/json; charset=utf-8";
        write_json(d, &r, &bt, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        write_debug2(d, &r, &bt, &resp->body);
    }
    bound_free(&bt);
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
    const char *fmt = ix_param(req, "format"), *dbg = ix_param(req, "debug");
    struct ix_thread_dump d;
    int rc = ix_thread_dump_take(&d, (int)timeout_ms, interrupt ? 0 : IX_DUMP_SPARE_EINTR);
    if (rc == INTROSPECT_EBUSY) {
        ix_respond_error(resp, 409, "another thread dump is running; retry shortly");
        ix_response_header(resp, "Retry-After", "1");
        return;
    }
    if (rc) {
        ix_respond_error(resp, 500, "thread dump failed: %s", introspect_strerror(rc));
        return;
    }
    if ((fmt && strcmp(fmt, "json") == 0) || (dbg && strcmp(dbg, "2") == 0)) {
        serve_per_thread(&d, fmt && strcmp(fmt, "json") == 0, resp);
    } else {
        struct ix_profile p;
        if (build_grouped(&d, &p))
            ix_respond_error(resp, 500, "out of memory while building the profile");
        else if (!fmt && dbg && strcmp(dbg, "1") == 0)
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
    struct ix_stack_table *t = ix_thread_create_stacks();
    uint64_t created, exited, failed, dropped;
    ix_thread_create_counters(&created, &exited, &failed);
    uint32_t n = ix_stack_size(t, &dropped);
    struct ix_profile p;
    ix_profile_init(&p, "threadcreate");
    ix_profile_add_type(&p, "threadcreate", "count");
    p.period_type = (struct ix_value_type){"threadcreate", "count"};
    p.period = 1;
    p.time_nanos = ix_real_ns();
    ix_profile_comment(&p, "threads created: %llu, exited: %llu, failed creations: %llu",
                       (unsigned long long)created, (unsigned long long)exited,
                       (unsigned long long)failed);
    if (dropped)
        ix_profile_comment(&p, "%llu creations not attributed (stack table full)",
                           (unsigned long long)dropped);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t pcs[IX_STACK_MAX_FRAMES];
        uint64_t count = 0;
        int np = ix_stack_get(t, (int)i, pcs, IX_STACK_MAX_FRAMES, &count);
        int64_t v = (int64_t)count;
        ix_profile_add(&p, pcs, np, &v, NULL, 0);
    }
    const char *dbg = ix_param(req, "debug");
    if (!ix_param(req, "format") && dbg && strcmp(dbg, "0") != 0)
        serve_count_text(&p, "threadcreate", resp);
    else
        ix_serve_profile(req, resp, &p, "threadcreate.pb.gz");
    ix_profile_free(&p);
}
