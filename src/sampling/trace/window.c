/* One execution-trace window (see sampling/trace/window.h). */
#include "sampling/trace/window.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcstats/allocator.h"
#include "host/threads.h"
#include "introspect.h"
#include "registry/pools.h"
#include "registry/tasks.h"
#include "sampling/cpu/profiler.h"
#include "sampling/threads/blocked_walk.h"
#include "sampling/threads/list.h"
#include "sampling/threads/proc.h"
#include "stack/unwind_tables.h"
#include "trace/recorder.h"
#include "util/clock.h"
#include "util/u64map.h"

#define MAX_THREADS 4096
#define MAX_FRAMES 64
#define WALKS_PER_TICK 8
#define LIST_EVERY 10          /* ticks between rereads of /proc/self/task */
#define MIN_POOL_WAIT_NS 10000 /* shorter acquires are counted, not drawn */
#define RING_PER_SECOND 16384
#define RING_MAX 65536
#define CPU_STACKS 8192            /* distinct CPU-sample stacks per trace */
#define CPU_MAX_SAMPLES (1 << 19)  /* CPU samples per trace (24 bytes each) */

/* 1 while a window's CPU profile runs (one trace at a time). */
static _Atomic int g_cpu_on;

/* The stacks of blocked intervals: process-lifetime, shared by every trace. */
static struct ix_stack_table g_stacks = IX_STACK_TABLE_INIT_DEPTH(4096, MAX_FRAMES);

struct tstate {
    pid_t tid;
    int fd;      /* /proc/self/task/<tid>/stat */
    int sfd;     /* .../schedstat, -1 without */
    unsigned long long runs; /* schedstat's times run, when blocked interval began */
    char cls;    /* 'R' running, 'S' asleep, 0 not seen yet */
    char letter; /* the state letter that began the interval */
    int stack;
    int nr; /* syscall of a blocked interval, -1 unknown */
    int64_t since;
    int seen;
    int walked; /* this blocked interval was walked (or tried) */
};

struct ix_trace_window {
    pthread_t thread;
    _Atomic int stop;
    int gen;
    long hz;
    struct ix_trace tr;
    struct tstate *ts;
    int nts;
    int statm_fd;
    long page;
    struct ix_task_snapshot before; /* names of tasks begun before the window */
    struct ix_u64map before_by_id;  /* task handle -> index + 1 in before */
    struct ix_pool_snapshot *pools;
    uint64_t short_pool_waits;
    int cpu_on; /* this window runs a CPU profile */
};

static char read_state(int fd)
{
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Times the thread was put on a CPU (schedstat's third field), 0 unknown. */
static unsigned long long read_runs(int fd)
{
    char buf[128];
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long long a, b, c;
    return sscanf(buf, "%llu %llu %llu", &a, &b, &c) == 3 ? c : 0;
}

static struct tstate *find_thread(struct ix_trace_window *w, pid_t tid)
{
    for (int i = 0; i < w->nts; i++)
        if (w->ts[i].tid == tid)
            return &w->ts[i];
    return NULL;
}

/* End thread t's current interval at now as a span on its state lane. */
static void close_interval(struct ix_trace_window *w, struct tstate *t, int64_t now)
{
    if (!t->cls || now <= t->since)
        return;
    struct ix_trace_span *s = ix_trace_add_span(&w->tr);
    if (!s)
        return;
    s->ts = t->since;
    s->dur = now - t->since;
    s->tid = t->tid;
    s->what = t->cls == 'R' ? IX_SPAN_RUNNING : IX_SPAN_BLOCKED;
    s->kind[0] = t->letter;
    s->stack = t->stack;
    const char *call = t->nr >= 0 ? ix_syscall_name(t->nr) : NULL;
    if (t->cls == 'R')
        snprintf(s->name, sizeof s->name, "running");
    else if (call)
        snprintf(s->name, sizeof s->name, "blocked: %s", call);
    else if (t->nr >= 0)
        snprintf(s->name, sizeof s->name, "blocked: syscall %d", t->nr);
    else
        snprintf(s->name, sizeof s->name, "blocked (%s)", ix_thread_state_name(t->letter));
}

/* Reread the thread list: open new threads, close the gone. */
static void refresh_threads(struct ix_trace_window *w, pid_t *tids, pid_t self, int64_t now,
                            int gen)
{
    int n = ix_thread_list(tids, MAX_THREADS);
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    for (int i = 0; i < n; i++) {
        if (tids[i] == self)
            continue;
        struct tstate *t = find_thread(w, tids[i]);
        if (!t && w->nts < MAX_THREADS) {
            char path[64];
            snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tids[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            t = &w->ts[w->nts++];
            memset(t, 0, sizeof *t);
            t->tid = tids[i];
            t->fd = fd;
            snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tids[i]);
            t->sfd = open(path, O_RDONLY | O_CLOEXEC);
            t->stack = -1;
            t->nr = -1;
            char name[32];
            ix_thread_name(t->tid, name, sizeof name);
            ix_trace_thread(&w->tr, t->tid, name);
        }
        if (t)
            t->seen = gen;
    }
    for (int i = 0; i < w->nts;) {
        if (w->ts[i].seen == gen) {
            i++;
            continue;
        }
        close_interval(w, &w->ts[i], now);
        close(w->ts[i].fd);
        if (w->ts[i].sfd >= 0)
            close(w->ts[i].sfd);
        w->ts[i] = w->ts[--w->nts];
    }
}

/* Walk thread t (asleep since the previous tick) for its blocking call. */
static void walk(struct ix_trace_window *w, struct tstate *t, struct ix_bwalk_scratch *scratch)
{
    uintptr_t pcs[MAX_FRAMES];
    struct ix_bwalk_result r;
    ix_blocked_walk(t->tid, scratch, pcs, MAX_FRAMES, &r);
    w->tr.walks++;
    t->walked = 1;
    if (r.sys.syscall_readable && !r.sys.syscall_running)
        t->nr = r.sys.syscall_nr;
    if (r.status == IX_BWALK_OK && r.npcs > 0)
        t->stack = ix_stack_intern(&g_stacks, pcs, r.npcs, 1);
}

/* One tick: each thread's state; an interval ends when the state class
 * changes or an asleep thread ran since the last tick. A blocked interval
 * is walked at its second tick (blocked across a whole tick): the short
 * sleeps of a busy server, the most frequent, cost no walk; the long ones,
 * which a trace is read for, get their stack. */
static void tick_states(struct ix_trace_window *w, struct ix_bwalk_scratch *scratch)
{
    int walks = 0;
    for (int i = 0; i < w->nts; i++) {
        struct tstate *t = &w->ts[i];
        char st = read_state(t->fd);
        if (!st)
            continue;
        char cls = st == 'R' ? 'R' : 'S';
        unsigned long long runs = 0;
        if (cls == 'S') {
            runs = read_runs(t->sfd);
            if (cls == t->cls && (!runs || runs == t->runs)) { /* the same sleep */
                if (!t->walked) {
                    if (walks < WALKS_PER_TICK) {
                        walks++;
                        walk(w, t, scratch);
                    } else {
                        w->tr.walks_skipped++;
                    }
                }
                continue;
            }
        } else if (cls == t->cls) {
            continue;
        }
        int64_t now = ix_mono_ns();
        close_interval(w, t, now);
        t->runs = runs;
        t->cls = cls;
        t->letter = st;
        t->since = now;
        t->stack = -1;
        t->nr = -1;
        t->walked = 0;
    }
}

static void tick_counters(struct ix_trace_window *w, int nthreads)
{
    int64_t now = ix_mono_ns();
    struct ix_trace *tr = &w->tr;
    char buf[64];
    if (w->statm_fd >= 0) {
        ssize_t n = pread(w->statm_fd, buf, sizeof buf - 1, 0);
        unsigned long long size = 0, rss = 0;
        if (n > 0) {
            buf[n] = '\0';
            if (sscanf(buf, "%llu %llu", &size, &rss) == 2)
                ix_trace_add_sample(tr, now, ix_trace_series(tr, "RSS bytes"),
                                    (double)rss * (double)w->page);
        }
    }
    double inuse = -1, mapped = -1;
    ix_allocator_headline(&inuse, &mapped);
    if (inuse >= 0)
        ix_trace_add_sample(tr, now, ix_trace_series(tr, "heap in use bytes"), inuse);
    ix_trace_add_sample(tr, now, ix_trace_series(tr, "threads"), nthreads + 1);
    uint64_t live = 0;
    int nk = ix_task_nkinds();
    for (int k = 0; k < nk; k++) {
        struct ix_task_totals t;
        ix_task_kind_totals(k, &t);
        live += t.started > t.ended ? t.started - t.ended : 0;
    }
    ix_trace_add_sample(tr, now, ix_trace_series(tr, "tasks live"), (double)live);
    size_t np = ix_pools_snapshot(w->pools, IX_POOL_MAX);
    for (size_t i = 0; i < np; i++) {
        char name[80];
        snprintf(name, sizeof name, "pool %s in use", w->pools[i].name);
        ix_trace_add_sample(tr, now, ix_trace_series(tr, name), (double)w->pools[i].st.in_use);
    }
}

static void *sampler_main(void *arg)
{
    struct ix_trace_window *w = arg;
    pid_t self = ix_gettid();
    pid_t *tids = malloc(MAX_THREADS * sizeof *tids);
    struct ix_bwalk_scratch scratch = {0};
    long long interval = 1000000000LL / w->hz;
    long per_counter = (long)((long long)IX_TRACE_COUNTER_MS * 1000000LL / interval);
    if (per_counter < 1)
        per_counter = 1;
    long long next = ix_mono_ns();
    int gen = 1;
    ix_unwind_tables_hold(); /* built by ix_trace_window_prepare: a refresh here */
    for (long tick = 0; tids && !atomic_load(&w->stop); tick++) {
        if (tick % LIST_EVERY == 0) {
            if (tick % (LIST_EVERY * 100) == 0)
                ix_unwind_tables_update(); /* cheap unless objects came or went */
            refresh_threads(w, tids, self, ix_mono_ns(), gen++);
        }
        tick_states(w, &scratch);
        if (tick % per_counter == 0)
            tick_counters(w, w->nts);
        w->tr.ticks++;
        next += interval;
        long long now = ix_mono_ns();
        if (next < now) { /* overran: keep the period, skip the missed ticks */
            w->tr.late_ticks++;
            next = now + interval;
        }
        struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0 &&
               !atomic_load(&w->stop))
            ;
    }
    ix_unwind_tables_unhold();
    free(tids);
    ix_bwalk_scratch_free(&scratch);
    w->tr.sampler_cpu_ns = ix_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    return NULL;
}

/* Every CPU sample as the profiler drains it (under its lock, on the
 * thread that polls or stops it, or on a thread that exits): kept with its
 * time and thread. Touches only the trace's cpu fields, so it may run
 * beside the state sampler thread. */
static void cpu_tap(const struct ix_cpu_rec *rec, void *arg)
{
    struct ix_trace_window *w = arg;
    struct ix_trace *tr = &w->tr;
    int64_t ts = rec->ts ? rec->ts : ix_mono_ns();
    if (ts < tr->t0) {
        tr->cpu_outside++;
        return;
    }
    if (tr->ncpu >= tr->max_cpu) {
        tr->cpu_dropped++;
        return;
    }
    int id = rec->npcs > 0 ? ix_stack_intern(tr->cpu_stacks, rec->pcs, rec->npcs, 1) : -1;
    ix_trace_add_cpu(tr, ts, rec->tid, id, rec->weight > 0 ? rec->weight : 1);
}

/* Start the window's CPU profile; without one, cpu_note says why. */
static void cpu_start(struct ix_trace_window *w, const struct ix_trace_cpu_opts *cpu, long seconds)
{
    struct ix_trace *tr = &w->tr;
    if (!cpu || cpu->hz <= 0) {
        snprintf(tr->cpu_note, sizeof tr->cpu_note, "no CPU samples: cpu_hz=0");
        return;
    }
    tr->cpu_stacks = calloc(1, sizeof *tr->cpu_stacks);
    if (!tr->cpu_stacks) {
        snprintf(tr->cpu_note, sizeof tr->cpu_note, "no CPU samples: out of memory");
        return;
    }
    pthread_mutex_init(&tr->cpu_stacks->lock, NULL);
    tr->cpu_stacks->cap = CPU_STACKS;
    tr->cpu_stacks->depth = MAX_FRAMES;
    /* At most hz samples per CPU second: every CPU busy for the whole
     * window, with a margin for late timer signals. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double most = (double)seconds * (double)cpu->hz * (double)(ncpu > 0 ? ncpu : 1) * 1.25 + 1024;
    tr->max_cpu = most < CPU_MAX_SAMPLES ? (size_t)most : CPU_MAX_SAMPLES;
    struct ix_cpu_options co = {cpu->hz, seconds, cpu->engine, cpu->sig, cpu_tap, w};
    char why[300] = "";
    int rc = ix_cpu_start(&co, why, sizeof why);
    if (rc) {
        snprintf(tr->cpu_note, sizeof tr->cpu_note, "no CPU samples: %s", why);
        return;
    }
    tr->cpu_hz = cpu->hz;
    w->cpu_on = 1;
    atomic_store(&g_cpu_on, 1);
}

void ix_trace_window_poll(void)
{
    if (atomic_load(&g_cpu_on))
        ix_cpu_poll();
}

/* Stop the CPU profile: its last samples come through the tap; its notes
 * (engine, losses, warnings) go into cpu_note. */
static void cpu_stop(struct ix_trace_window *w)
{
    if (!w->cpu_on)
        return;
    atomic_store(&g_cpu_on, 0);
    struct ix_profile prof;
    ix_cpu_stop(&prof);
    struct ix_trace *tr = &w->tr;
    size_t len = 0;
    for (int i = 0; i < prof.ncomments; i++) {
        const char *c = prof.comments[i];
        if (strncmp(c, "engine:", 7) && strncmp(c, "lost:", 5) && strncmp(c, "warning:", 8))
            continue;
        int n = snprintf(tr->cpu_note + len, sizeof tr->cpu_note - len, "%s%s", len ? "; " : "", c);
        if (n < 0 || (size_t)n >= sizeof tr->cpu_note - len)
            break;
        len += (size_t)n;
    }
    ix_profile_free(&prof);
}

void ix_trace_window_prepare(void)
{
    ix_unwind_tables_update();
}

int ix_trace_window_start(long hz, long seconds, const struct ix_trace_cpu_opts *cpu,
                          struct ix_trace_window **out)
{
    *out = NULL;
    if (hz < 1 || hz > IX_TRACE_MAX_HZ || seconds < 1)
        return INTROSPECT_EINVAL;
    struct ix_trace_window *w = calloc(1, sizeof *w);
    if (!w)
        return INTROSPECT_ENOMEM;
    w->ts = calloc(MAX_THREADS, sizeof *w->ts);
    w->pools = calloc(IX_POOL_MAX, sizeof *w->pools);
    if (!w->ts || !w->pools) {
        free(w->ts);
        free(w->pools);
        free(w);
        return INTROSPECT_ENOMEM;
    }
    w->hz = hz;
    w->page = sysconf(_SC_PAGESIZE);
    w->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    w->tr.pid = getpid();
    w->tr.state_hz = hz;
    w->tr.stacks = &g_stacks;
    size_t cap = (size_t)seconds * RING_PER_SECOND;
    w->gen = ix_trace_begin(cap < RING_MAX ? cap : RING_MAX);
    if (w->gen < 0) {
        if (w->statm_fd >= 0)
            close(w->statm_fd);
        free(w->ts);
        free(w->pools);
        free(w);
        return INTROSPECT_EBUSY;
    }
    w->tr.t0 = ix_mono_ns();
    /* Recording runs from here; the names of tasks begun before it come
     * from a snapshot (a task begun meanwhile is in both: its begin wins). */
    ix_tasks_snapshot(&w->before);
    int rc = ix_module_thread_create(&w->thread, 0, sampler_main, w, "introspect-trc");
    if (rc) {
        ix_trace_end();
        ix_trace_release();
        ix_tasks_snapshot_free(&w->before);
        if (w->statm_fd >= 0)
            close(w->statm_fd);
        free(w->ts);
        free(w->pools);
        free(w);
        return INTROSPECT_ESYS;
    }
    /* After the sampler thread: arming every thread for CPU samples takes
     * a while (a perf event and its ring each; ~300 ms under ASan), and
     * the thread states must be sampled from the window's start. */
    cpu_start(w, cpu, seconds);
    *out = w;
    return 0;
}

/* ---- assembly: ring records into spans and flows ---- */

struct open_task {
    uint64_t id;
    int64_t start;
    pid_t tid;
    int kind;
    int64_t deadline;
    int began_before;
    char name[64];
};

static int by_ts(const void *a, const void *b)
{
    const struct ix_trace_rec *x = a, *y = b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

static void task_span(struct ix_trace_window *w, const struct open_task *o, int64_t end,
                      int state, int overdue, int open)
{
    struct ix_trace_span *s = ix_trace_add_span(&w->tr);
    if (!s)
        return;
    s->ts = o->start;
    s->dur = end - o->start;
    s->tid = o->tid;
    s->what = IX_SPAN_TASK;
    s->task = o->id;
    snprintf(s->name, sizeof s->name, "%s", o->name);
    snprintf(s->kind, sizeof s->kind, "%s", ix_task_kind_name(o->kind));
    if (state >= 0)
        snprintf(s->status, sizeof s->status, "%s", ix_task_state_name(state));
    s->deadline = o->deadline;
    s->overdue = overdue || (open && o->deadline && end > o->deadline);
    s->began_before = o->began_before;
    s->open = open;
}

/* The open entry of task id, made (begun before the window, on tid) when absent. */
static struct open_task *get_task(struct ix_trace_window *w, struct ix_u64map *m,
                                  struct open_task **arr, size_t *n, size_t *cap, uint64_t id,
                                  pid_t tid)
{
    uint64_t *v = ix_u64map_get(m, id);
    if (v && *v)
        return &(*arr)[*v - 1];
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct open_task *a = realloc(*arr, c * sizeof *a);
        if (!a)
            return NULL;
        *arr = a;
        *cap = c;
    }
    int added;
    v = ix_u64map_put(m, id, &added);
    if (!v)
        return NULL;
    struct open_task *o = &(*arr)[(*n)++];
    memset(o, 0, sizeof *o);
    *v = *n;
    o->id = id;
    o->start = w->tr.t0;
    o->tid = tid;
    o->began_before = 1;
    snprintf(o->name, sizeof o->name, "(begun before the trace)");
    uint64_t *b = ix_u64map_get(&w->before_by_id, id);
    if (b && *b) {
        const struct ix_task_info *ti = &w->before.tasks[*b - 1];
        o->kind = ti->kind;
        o->deadline = ti->deadline_ns;
        snprintf(o->name, sizeof o->name, "%s", ti->name);
    }
    return o;
}

static void close_task(struct ix_u64map *m, struct open_task *o)
{
    uint64_t *v = ix_u64map_get(m, o->id);
    if (v)
        *v = 0;
    o->id = 0;
}

static void assemble(struct ix_trace_window *w, struct ix_trace_rec *recs, long n)
{
    struct ix_trace *tr = &w->tr;
    qsort(recs, (size_t)n, sizeof *recs, by_ts);
    struct ix_u64map m = {0};
    struct open_task *open = NULL;
    size_t nopen = 0, capopen = 0;
    for (long i = 0; i < n; i++) {
        struct ix_trace_rec *r = &recs[i];
        if (r->ts > tr->t1)
            continue;
        struct ix_trace_thread *th = ix_trace_thread(tr, r->tid, NULL);
        if (!th)
            continue;
        if (!th->name[0]) {
            ix_thread_name(r->tid, th->name, sizeof th->name);
            if (!th->name[0])
                snprintf(th->name, sizeof th->name, "(exited)");
        }
        switch (r->type) {
        case IX_TR_TASK_BEGIN: {
            struct open_task *o = get_task(w, &m, &open, &nopen, &capopen, r->id, r->tid);
            if (!o)
                break;
            o->start = r->ts;
            o->tid = r->tid;
            o->kind = (int)r->a;
            o->deadline = r->b;
            o->began_before = 0;
            memcpy(o->name, r->name, IX_TRACE_NAME);
            o->name[IX_TRACE_NAME - 1] = '\0';
            break;
        }
        case IX_TR_TASK_BIND:
        case IX_TR_TASK_END: {
            struct open_task *o = get_task(w, &m, &open, &nopen, &capopen, r->id, r->tid);
            if (!o)
                break;
            if (o->tid != r->tid) { /* moved: close the segment, draw the move */
                task_span(w, o, r->ts, -1, 0, 0);
                struct ix_trace_flow *f = ix_trace_add_flow(tr);
                if (f)
                    *f = (struct ix_trace_flow){o->id, r->ts, r->ts, o->tid, r->tid};
                o->start = r->ts;
                o->tid = r->tid;
                o->began_before = 0;
            }
            if (r->type == IX_TR_TASK_END) {
                o->kind = (int)r->a;
                task_span(w, o, r->ts, (int)r->b, r->c, 0);
                close_task(&m, o);
            }
            break;
        }
        case IX_TR_POOL_WAIT:
        case IX_TR_MUTEX_WAIT: {
            if (r->type == IX_TR_POOL_WAIT && r->dur < MIN_POOL_WAIT_NS) {
                w->short_pool_waits++;
                break;
            }
            struct ix_trace_span *s = ix_trace_add_span(tr);
            if (!s)
                break;
            s->ts = r->ts < tr->t0 ? tr->t0 : r->ts;
            s->began_before = r->ts < tr->t0;
            s->dur = r->ts + r->dur - s->ts;
            s->tid = r->tid;
            s->task = r->id;
            s->value = (int)r->b;
            if (r->type == IX_TR_POOL_WAIT) {
                s->what = IX_SPAN_POOL;
                snprintf(s->name, sizeof s->name, "%s", ix_pool_name((int)r->a));
                snprintf(s->kind, sizeof s->kind, "pool");
            } else {
                s->what = IX_SPAN_MUTEX;
                snprintf(s->name, sizeof s->name, "mutex wait");
                snprintf(s->kind, sizeof s->kind, "0x%llx", (unsigned long long)r->a);
            }
            break;
        }
        default: break;
        }
    }
    for (size_t i = 0; i < nopen; i++)
        if (open[i].id)
            task_span(w, &open[i], tr->t1, -1, 0, 1);
    free(open);
    ix_u64map_free(&m);
}

void ix_trace_window_stop(struct ix_trace_window *w, struct ix_trace *out)
{
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    cpu_stop(w);
    ix_trace_end();
    struct ix_trace *tr = &w->tr;
    tr->t1 = ix_mono_ns();
    /* CPU samples: in the window only, each on a named thread lane. */
    size_t kept = 0;
    for (size_t i = 0; i < tr->ncpu; i++) {
        if (tr->cpu[i].ts > tr->t1) {
            tr->cpu_outside++;
            continue;
        }
        struct ix_trace_thread *th = ix_trace_thread(tr, tr->cpu[i].tid, NULL);
        if (th && !th->name[0]) {
            ix_thread_name(th->tid, th->name, sizeof th->name);
            if (!th->name[0])
                snprintf(th->name, sizeof th->name, "(exited)");
        }
        tr->cpu[kept++] = tr->cpu[i];
    }
    tr->ncpu = kept;
    for (int i = 0; i < w->nts; i++) {
        close_interval(w, &w->ts[i], tr->t1);
        close(w->ts[i].fd);
        if (w->ts[i].sfd >= 0)
            close(w->ts[i].sfd);
    }
    struct ix_trace_rec *recs = NULL;
    long n = ix_trace_collect(w->gen, &recs, &tr->dropped, &tr->rings);
    tr->ring_bytes = ix_trace_ring_bytes();
    ix_trace_release();
    if (n < 0) {
        tr->oom = 1;
        n = 0;
    }
    tr->records = (uint64_t)n;
    for (size_t i = 0; i < w->before.n; i++) {
        const struct ix_task_info *ti = &w->before.tasks[i];
        int added;
        uint64_t *v = ix_u64map_put(&w->before_by_id, ((uint64_t)ti->gen << 32) | (ti->slot + 1),
                                    &added);
        if (v)
            *v = i + 1;
    }
    assemble(w, recs, n);
    ix_u64map_free(&w->before_by_id);
    tr->short_pool_waits = w->short_pool_waits;
    free(recs);
    ix_tasks_snapshot_free(&w->before);
    if (w->statm_fd >= 0)
        close(w->statm_fd);
    *out = *tr;
    free(w->ts);
    free(w->pools);
    free(w);
}
