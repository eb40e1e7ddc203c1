/* The Perfetto protobuf form of an execution trace (see format/trace_perfetto.h). */
#include "format/trace_perfetto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/protobuf.h"
#include "introspect.h"
#include "symbolize/symbolizer.h"

/* Field numbers (Perfetto's protos/perfetto/trace/). */
enum {
    TRACE_PACKET = 1,
    /* TracePacket */
    PKT_TIMESTAMP = 8,
    PKT_SEQUENCE_ID = 10, /* trusted_packet_sequence_id */
    PKT_TRACK_EVENT = 11,
    PKT_TRACK_DESCRIPTOR = 60,
    /* TrackDescriptor */
    TD_UUID = 1,
    TD_NAME = 2,
    TD_PROCESS = 3,
    TD_THREAD = 4,
    TD_PARENT_UUID = 5,
    TD_COUNTER = 8,
    /* ProcessDescriptor */
    PD_PID = 1,
    PD_PROCESS_NAME = 6,
    /* ThreadDescriptor */
    THD_PID = 1,
    THD_TID = 2,
    THD_THREAD_NAME = 5,
    /* CounterDescriptor */
    CD_UNIT = 3,
    /* TrackEvent */
    TE_DEBUG_ANNOTATIONS = 4,
    TE_TYPE = 9,
    TE_TRACK_UUID = 11,
    TE_CATEGORIES = 22,
    TE_NAME = 23,
    TE_DOUBLE_COUNTER_VALUE = 44,
    TE_FLOW_IDS = 47,
    TE_TERMINATING_FLOW_IDS = 48,
    TE_CALLSTACK = 55,
    /* TrackEvent.Callstack and its Frame */
    CS_FRAMES = 1,
    FR_FUNCTION_NAME = 1,
    FR_SOURCE_FILE = 2,
    FR_LINE_NUMBER = 3,
    /* DebugAnnotation */
    DA_BOOL_VALUE = 2,
    DA_INT_VALUE = 4,
    DA_DOUBLE_VALUE = 5,
    DA_STRING_VALUE = 6,
    DA_NAME = 10,
};

enum { TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3, TYPE_COUNTER = 4 };
enum { UNIT_COUNT = 2, UNIT_SIZE_BYTES = 3 };

/* Track uuids: a kind in the top byte, the pid in the next three (pid_max
 * is at most 2^22), a number (tid, index) in the low four; flow ids: the
 * pid above the index. So the tracks and flows of the processes of a tree
 * never share an id when their traces are concatenated (trace_merge.h). */
enum { TK_PROCESS = 1, TK_THREAD, TK_STATE, TK_OVERLAP, TK_COUNTER };
static uint64_t uuid(pid_t pid, int kind, uint64_t n)
{
    return ((uint64_t)kind << 56) | ((uint64_t)pid & 0xffffff) << 32 | (n & 0xffffffffu);
}
static uint64_t flow_id(pid_t pid, size_t idx) { return (uint64_t)pid << 32 | (uint64_t)(idx + 1); }

static void key(ix_buf *b, int field, int wire)
{
    ix_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

/* A varint field written even when 0 (ix_pb_uint skips zeros). */
static void put_varint(ix_buf *b, int field, uint64_t v)
{
    key(b, field, 0);
    ix_pb_varint(b, v);
}

static void put_fixed64(ix_buf *b, int field, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    key(b, field, 1);
    ix_buf_put(b, le, 8);
}

static void put_double(ix_buf *b, int field, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_fixed64(b, field, v);
}

static void put_str(ix_buf *b, int field, const char *s) { ix_pb_bytes(b, field, s, strlen(s)); }

static void put_msg(ix_buf *b, int field, const ix_buf *m) { ix_pb_bytes(b, field, m->data, m->len); }

/* Debug annotations (name, one value). */
static void da_str(ix_buf *ev, const char *name, const char *v)
{
    ix_buf a;
    ix_buf_init(&a);
    put_str(&a, DA_NAME, name);
    put_str(&a, DA_STRING_VALUE, v);
    put_msg(ev, TE_DEBUG_ANNOTATIONS, &a);
    ix_buf_free(&a);
}

static void da_int(ix_buf *ev, const char *name, int64_t v)
{
    ix_buf a;
    ix_buf_init(&a);
    put_str(&a, DA_NAME, name);
    put_varint(&a, DA_INT_VALUE, (uint64_t)v);
    put_msg(ev, TE_DEBUG_ANNOTATIONS, &a);
    ix_buf_free(&a);
}

static void da_bool(ix_buf *ev, const char *name, int v)
{
    ix_buf a;
    ix_buf_init(&a);
    put_str(&a, DA_NAME, name);
    put_varint(&a, DA_BOOL_VALUE, v != 0);
    put_msg(ev, TE_DEBUG_ANNOTATIONS, &a);
    ix_buf_free(&a);
}

static void da_double(ix_buf *ev, const char *name, double v)
{
    ix_buf a;
    ix_buf_init(&a);
    put_str(&a, DA_NAME, name);
    put_double(&a, DA_DOUBLE_VALUE, v);
    put_msg(ev, TE_DEBUG_ANNOTATIONS, &a);
    ix_buf_free(&a);
}

/* One packet on the process's sequence (its pid): a descriptor (ts 0:
 * none) or an event at ts. */
static void packet(ix_buf *out, pid_t seq, int field, const ix_buf *body, int64_t ts)
{
    ix_buf p;
    ix_buf_init(&p);
    if (ts > 0)
        put_varint(&p, PKT_TIMESTAMP, (uint64_t)ts);
    put_varint(&p, PKT_SEQUENCE_ID, (uint64_t)seq);
    put_msg(&p, field, body);
    put_msg(out, TRACE_PACKET, &p);
    ix_buf_free(&p);
}

static void track(ix_buf *out, pid_t seq, uint64_t id, uint64_t parent, const char *name,
                  const ix_buf *desc, int desc_field)
{
    ix_buf d;
    ix_buf_init(&d);
    put_varint(&d, TD_UUID, id);
    if (parent)
        put_varint(&d, TD_PARENT_UUID, parent);
    if (name)
        put_str(&d, TD_NAME, name);
    if (desc)
        put_msg(&d, desc_field, desc);
    packet(out, seq, PKT_TRACK_DESCRIPTOR, &d, 0);
    ix_buf_free(&d);
}

/* ---- stacks, symbolized once each ---- */

struct stack_cache {
    const struct ix_stack_table *table;
    int n;
    char **text;    /* leaf first, one frame a line */
    ix_buf *frames; /* encoded Callstack.frames, outermost first */
    int *done;
};

static void cache_init(struct stack_cache *c, struct ix_stack_table *table)
{
    memset(c, 0, sizeof *c);
    c->table = table;
    c->n = table ? (int)ix_stack_size(table, NULL) : 0;
    if (c->n > 0) {
        c->text = calloc((size_t)c->n, sizeof *c->text);
        c->frames = calloc((size_t)c->n, sizeof *c->frames);
        c->done = calloc((size_t)c->n, sizeof *c->done);
        if (!c->text || !c->frames || !c->done)
            c->n = 0;
    }
}

static void cache_free(struct stack_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->text[i]);
        if (c->done[i])
            ix_buf_free(&c->frames[i]);
    }
    free(c->text);
    free(c->frames);
    free(c->done);
}

/* Stack id's text and frames (NULL when none). */
static int cache_get(struct stack_cache *c, struct ix_symbolizer *sym, int id, const char **text,
                     const ix_buf **frames)
{
    if (id < 0 || id >= c->n)
        return INTROSPECT_EINVAL;
    if (!c->done[id]) {
        c->done[id] = 1;
        ix_buf_init(&c->frames[id]);
        int npcs = 0, k = 0;
        const uintptr_t *pcs = ix_stack_frames(c->table, id, &npcs, &k);
        ix_buf txt;
        ix_buf_init(&txt);
        /* outermost first for the callstack: walk from the root */
        for (int i = npcs; i-- > 0;) {
            struct ix_sym_line lines[8];
            char unknown[IX_TRACE_PC_TEXT];
            int nl = ix_trace_pc_lines(sym, pcs[i], lines, 8, unknown);
            for (int l = nl; l-- > 0;) { /* the inlined callee (lines[0]) is deepest */
                ix_buf f;
                ix_buf_init(&f);
                put_str(&f, FR_FUNCTION_NAME, lines[l].function ? lines[l].function : "?");
                if (lines[l].file)
                    put_str(&f, FR_SOURCE_FILE, lines[l].file);
                if (lines[l].line > 0)
                    put_varint(&f, FR_LINE_NUMBER, (uint64_t)lines[l].line);
                put_msg(&c->frames[id], CS_FRAMES, &f);
                ix_buf_free(&f);
            }
        }
        for (int i = 0; i < npcs; i++) { /* leaf first for the text */
            struct ix_sym_line lines[8];
            char unknown[IX_TRACE_PC_TEXT];
            int nl = ix_trace_pc_lines(sym, pcs[i], lines, 8, unknown);
            for (int l = 0; l < nl; l++) {
                const char *file = lines[l].file ? strrchr(lines[l].file, '/') : NULL;
                file = file ? file + 1 : lines[l].file;
                ix_buf_printf(&txt, "%s%s", txt.len ? "\n" : "",
                              lines[l].function ? lines[l].function : "?");
                if (file)
                    ix_buf_printf(&txt, " %s:%d", file, lines[l].line);
            }
        }
        c->text[id] = ix_buf_take(&txt, NULL);
    }
    *text = c->text[id];
    *frames = &c->frames[id];
    return *text ? 0 : INTROSPECT_ENOMEM;
}

static void put_stack(ix_buf *ev, struct stack_cache *c, struct ix_symbolizer *sym, int id)
{
    const char *text;
    const ix_buf *frames;
    if (cache_get(c, sym, id, &text, &frames))
        return;
    da_str(ev, "stack", text);
    put_msg(ev, TE_CALLSTACK, frames);
}

/* ---- events, in time order ---- */

enum ev_kind { EV_BEGIN, EV_END, EV_CPU, EV_COUNTER, EV_FLOW_OUT, EV_FLOW_IN };

struct pev {
    int64_t ts;
    int rank;    /* at one time: ends (0), begins (1), the rest (2) */
    int64_t tie; /* ends: inner first; begins: outer first */
    int kind;
    size_t idx;
    uint64_t track;
};

static int pev_order(const void *a, const void *b)
{
    const struct pev *x = a, *y = b;
    if (x->ts != y->ts)
        return (x->ts > y->ts) - (x->ts < y->ts);
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->tie != y->tie)
        return (x->tie > y->tie) - (x->tie < y->tie);
    if (x->idx != y->idx)
        return (x->idx > y->idx) - (x->idx < y->idx);
    return x->kind - y->kind; /* a zero-length span: its begin first */
}

static const char *const what_cat[] = {"task", "pool", "mutex", "state", "state"};

static void task_annotation(ix_buf *ev, uint64_t task)
{
    char id[48];
    snprintf(id, sizeof id, "%u.%u", (unsigned)((uint32_t)task - 1), (unsigned)(task >> 32));
    da_str(ev, "task", id);
}

static void span_args(ix_buf *ev, const struct ix_trace *t, const struct ix_trace_span *s)
{
    switch (s->what) {
    case IX_SPAN_TASK:
        task_annotation(ev, s->task);
        da_str(ev, "kind", s->kind);
        da_str(ev, "name", s->name);
        if (s->status[0])
            da_str(ev, "status", s->status);
        if (s->deadline)
            da_double(ev, "deadline_ms", (double)(s->deadline - t->t0) / 1e6);
        da_bool(ev, "overdue", s->overdue);
        if (s->began_before)
            da_bool(ev, "began_before_trace", 1);
        if (s->open)
            da_bool(ev, "still_running", 1);
        break;
    case IX_SPAN_POOL:
    case IX_SPAN_MUTEX: {
        static const char *const outcome[] = {"got", "timeout", "cancelled", "failed"};
        if (s->what == IX_SPAN_POOL) {
            da_str(ev, "pool", s->name);
            da_str(ev, "outcome", s->value >= 0 && s->value < 4 ? outcome[s->value] : "?");
        } else {
            da_str(ev, "lock", s->kind);
        }
        if (s->task)
            task_annotation(ev, s->task);
        da_double(ev, "wait_ms", (double)s->dur / 1e6);
        break;
    }
    default: {
        char st[2] = {s->kind[0] ? s->kind[0] : '?', 0};
        da_str(ev, "state", st);
        break;
    }
    }
}

static void notes(ix_buf *out, const struct ix_trace *t, const struct ix_trace_perfetto_part *part,
                  int64_t ts, size_t nevents)
{
    ix_buf ev;
    ix_buf_init(&ev);
    put_varint(&ev, TE_TYPE, TYPE_INSTANT);
    put_varint(&ev, TE_TRACK_UUID, uuid(t->pid, TK_PROCESS, 0));
    put_str(&ev, TE_CATEGORIES, "notes");
    put_str(&ev, TE_NAME, "trace notes");
    da_str(&ev, "producer", "introspect");
    da_double(&ev, "duration_ms", (double)(t->t1 - t->t0) / 1e6);
    da_int(&ev, "dropped_events", (int64_t)t->dropped);
    da_int(&ev, "recorded_events", (int64_t)t->records);
    da_int(&ev, "state_hz", t->state_hz);
    da_int(&ev, "ticks", (int64_t)t->ticks);
    da_int(&ev, "late_ticks", (int64_t)t->late_ticks);
    da_int(&ev, "blocked_walks", (int64_t)t->walks);
    da_int(&ev, "short_pool_waits_not_drawn", (int64_t)t->short_pool_waits);
    da_int(&ev, "cpu_hz", t->cpu_hz);
    da_int(&ev, "cpu_samples", (int64_t)t->ncpu);
    da_int(&ev, "cpu_samples_dropped", (int64_t)t->cpu_dropped);
    da_str(&ev, "cpu_note", t->cpu_note);
    da_bool(&ev, "incomplete", t->oom);
    if (part) {
        da_int(&ev, "pid", t->pid);
        da_int(&ev, "tree_t0_ns", part->base);
        /* the packets that follow: a part cut between two packets is
         * still well-formed, so the merge counts them */
        da_int(&ev, "part_events", (int64_t)nevents);
    }
    packet(out, t->pid, PKT_TRACK_EVENT, &ev, ts);
    ix_buf_free(&ev);
}

int ix_trace_perfetto(const struct ix_trace *t, const struct ix_trace_perfetto_part *part,
                      ix_buf *out)
{
    /* Tracks: the process, each thread with its state child, counters. */
    char name[160];
    ix_buf d;
    ix_buf_init(&d);
    if (part)
        snprintf(name, sizeof name, "%s", part->name);
    else
        ix_trace_process_name(t->pid, name, sizeof name);
    put_varint(&d, PD_PID, (uint64_t)t->pid);
    put_str(&d, PD_PROCESS_NAME, name);
    track(out, t->pid, uuid(t->pid, TK_PROCESS, 0), 0, NULL, &d, TD_PROCESS);
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct ix_trace_thread *th = &t->threads[i];
        ix_buf_reset(&d);
        put_varint(&d, THD_PID, (uint64_t)t->pid);
        put_varint(&d, THD_TID, (uint64_t)th->tid);
        snprintf(name, sizeof name, "%s (%d)", th->name, (int)th->tid);
        put_str(&d, THD_THREAD_NAME, name);
        track(out, t->pid, uuid(t->pid, TK_THREAD, (uint64_t)th->tid),
              uuid(t->pid, TK_PROCESS, 0), NULL, &d, TD_THREAD);
        snprintf(name, sizeof name, "%s (%d) state", th->name, (int)th->tid);
        track(out, t->pid, uuid(t->pid, TK_STATE, (uint64_t)th->tid),
              uuid(t->pid, TK_THREAD, (uint64_t)th->tid), name,
              NULL, 0);
    }
    for (int i = 0; i < t->nseries; i++) {
        ix_buf_reset(&d);
        put_varint(&d, CD_UNIT, strstr(t->series[i], "bytes") ? UNIT_SIZE_BYTES : UNIT_COUNT);
        track(out, t->pid, uuid(t->pid, TK_COUNTER, (uint64_t)i), uuid(t->pid, TK_PROCESS, 0),
              t->series[i], &d,
              TD_COUNTER);
    }
    ix_buf_free(&d);

    /* Events: every span's begin and end, samples, counters, flow ends. */
    size_t cap = 2 * t->nspans + t->ncpu + t->nsamples + 2 * t->nflows + 1;
    struct pev *evs = malloc(cap * sizeof *evs);
    size_t *order = malloc((t->nspans + 1) * sizeof *order);
    unsigned char *nests = malloc(t->nspans + 1);
    if (!evs || !order || !nests) {
        free(evs);
        free(order);
        free(nests);
        return INTROSPECT_ENOMEM;
    }
    size_t n = 0, nlane = ix_trace_lane_spans(t, order, nests);
    for (size_t k = 0; k < nlane; k++) {
        const struct ix_trace_span *s = &t->spans[order[k]];
        uint64_t tr = uuid(t->pid, TK_THREAD, (uint64_t)s->tid);
        if (!nests[k]) { /* a track of its own under the thread */
            tr = uuid(t->pid, TK_OVERLAP, order[k]);
            ix_trace_span_title(s, name, sizeof name);
            track(out, t->pid, tr, uuid(t->pid, TK_THREAD, (uint64_t)s->tid), name, NULL, 0);
        }
        evs[n++] = (struct pev){s->ts, 1, (int64_t)k, EV_BEGIN, order[k], tr};
        /* a zero-length span ends with the begins, right after its own */
        evs[n++] = s->dur > 0 ? (struct pev){s->ts + s->dur, 0, -(int64_t)k, EV_END, order[k], tr}
                              : (struct pev){s->ts, 1, (int64_t)k, EV_END, order[k], tr};
    }
    for (size_t i = 0; i < t->nspans; i++) {
        const struct ix_trace_span *s = &t->spans[i];
        if (s->what <= IX_SPAN_MUTEX)
            continue;
        uint64_t tr = uuid(t->pid, TK_STATE, (uint64_t)s->tid);
        evs[n++] = (struct pev){s->ts, 1, 0, EV_BEGIN, i, tr};
        evs[n++] = s->dur > 0 ? (struct pev){s->ts + s->dur, 0, 0, EV_END, i, tr}
                              : (struct pev){s->ts, 1, 0, EV_END, i, tr};
    }
    for (size_t i = 0; i < t->ncpu; i++)
        evs[n++] = (struct pev){t->cpu[i].ts, 2, 0, EV_CPU, i,
                                uuid(t->pid, TK_THREAD, (uint64_t)t->cpu[i].tid)};
    for (size_t i = 0; i < t->nsamples; i++)
        evs[n++] = (struct pev){t->samples[i].ts, 2, 0, EV_COUNTER, i,
                                uuid(t->pid, TK_COUNTER, (uint64_t)t->samples[i].series)};
    for (size_t i = 0; i < t->nflows; i++) {
        const struct ix_trace_flow *f = &t->flows[i];
        evs[n++] = (struct pev){f->ts0, 2, 0, EV_FLOW_OUT, i,
                                uuid(t->pid, TK_THREAD, (uint64_t)f->tid0)};
        evs[n++] = (struct pev){f->ts1, 2, 1, EV_FLOW_IN, i,
                                uuid(t->pid, TK_THREAD, (uint64_t)f->tid1)};
    }
    qsort(evs, n, sizeof *evs, pev_order);
    /* The notes first, not after any event (a record may predate t0 by
     * the moment between recording's start and the window's). */
    notes(out, t, part, n && evs[0].ts < t->t0 ? evs[0].ts : t->t0, n);

    struct ix_symbolizer *sym = ix_symbolizer_new();
    struct stack_cache ss, cs;
    cache_init(&ss, t->stacks);
    cache_init(&cs, t->cpu_stacks);
    ix_buf ev;
    ix_buf_init(&ev);
    for (size_t i = 0; i < n; i++) {
        const struct pev *p = &evs[i];
        ix_buf_reset(&ev);
        put_varint(&ev, TE_TRACK_UUID, p->track);
        switch (p->kind) {
        case EV_BEGIN: {
            const struct ix_trace_span *s = &t->spans[p->idx];
            put_varint(&ev, TE_TYPE, TYPE_SLICE_BEGIN);
            put_str(&ev, TE_CATEGORIES, what_cat[s->what]);
            ix_trace_span_title(s, name, sizeof name);
            put_str(&ev, TE_NAME, name);
            span_args(&ev, t, s);
            if (s->stack >= 0)
                put_stack(&ev, &ss, sym, s->stack);
            break;
        }
        case EV_END: put_varint(&ev, TE_TYPE, TYPE_SLICE_END); break;
        case EV_CPU: {
            const struct ix_trace_cpu *c = &t->cpu[p->idx];
            const char *text = NULL;
            const ix_buf *frames;
            put_varint(&ev, TE_TYPE, TYPE_INSTANT);
            put_str(&ev, TE_CATEGORIES, "cpu");
            if (cache_get(&cs, sym, c->stack, &text, &frames) == 0) {
                size_t len = strcspn(text, "\n");
                snprintf(name, sizeof name, "%.*s", (int)(len < 159 ? len : 159), text);
                put_str(&ev, TE_NAME, name);
                da_str(&ev, "stack", text);
                put_msg(&ev, TE_CALLSTACK, frames);
            } else {
                put_str(&ev, TE_NAME, "cpu sample");
            }
            da_int(&ev, "weight", c->weight);
            break;
        }
        case EV_COUNTER:
            put_varint(&ev, TE_TYPE, TYPE_COUNTER);
            put_double(&ev, TE_DOUBLE_COUNTER_VALUE, t->samples[p->idx].value);
            break;
        case EV_FLOW_OUT:
        case EV_FLOW_IN:
            put_varint(&ev, TE_TYPE, TYPE_INSTANT);
            put_str(&ev, TE_CATEGORIES, "flow");
            put_str(&ev, TE_NAME, p->kind == EV_FLOW_OUT ? "task moves out" : "task moves in");
            task_annotation(&ev, t->flows[p->idx].task);
            put_fixed64(&ev, p->kind == EV_FLOW_OUT ? TE_FLOW_IDS : TE_TERMINATING_FLOW_IDS,
                        flow_id(t->pid, p->idx));
            break;
        default: break;
        }
        packet(out, t->pid, PKT_TRACK_EVENT, &ev, p->ts);
    }
    ix_buf_free(&ev);
    cache_free(&ss);
    cache_free(&cs);
    if (sym)
        ix_symbolizer_free(sym);
    free(evs);
    free(order);
    free(nests);
    return out->oom ? INTROSPECT_ENOMEM : 0;
}

/* ---- a process tree's parts (format/trace_merge.h) ---- */

/* Whether the debug annotations of a TrackEvent (ev) hold an int named
 * name, into v. */
static int annotation_int(const uint8_t *ev, size_t n, const char *name, int64_t *v)
{
    struct ix_pb_reader r = {ev, ev + n};
    struct ix_pb_field f;
    size_t k = strlen(name);
    while (ix_pb_next(&r, &f) == 1) {
        if (f.num != TE_DEBUG_ANNOTATIONS || f.wt != 2)
            continue;
        struct ix_pb_reader a = {f.data, f.data + f.len};
        struct ix_pb_field g;
        int named = 0, has = 0;
        uint64_t val = 0;
        while (ix_pb_next(&a, &g) == 1) {
            if (g.num == DA_NAME && g.wt == 2 && g.len == k && memcmp(g.data, name, k) == 0)
                named = 1;
            else if (g.num == DA_INT_VALUE && g.wt == 0)
                has = 1, val = g.v;
        }
        if (named && has) {
            *v = (int64_t)val;
            return 1;
        }
    }
    return 0;
}

int ix_trace_perfetto_check_part(const void *data, size_t len, pid_t pid, int64_t base,
                                 int64_t *first_ts)
{
    struct ix_pb_reader r = {data, (const uint8_t *)data + len};
    struct ix_pb_field f;
    int process = 0, rc;
    int64_t t0 = 0, first = 0, want = -1, after = -1; /* packets after the notes */
    while ((rc = ix_pb_next(&r, &f)) == 1) {
        if (f.num != TRACE_PACKET || f.wt != 2)
            return INTROSPECT_EINVAL;
        struct ix_pb_reader p = {f.data, f.data + f.len};
        struct ix_pb_field g;
        int seq = 0, prc;
        if (after >= 0)
            after++;
        while ((prc = ix_pb_next(&p, &g)) == 1) {
            if (g.num == PKT_SEQUENCE_ID && g.wt == 0) {
                seq = g.v == (uint64_t)pid;
            } else if (g.num == PKT_TIMESTAMP && g.wt == 0) {
                if (!first || (int64_t)g.v < first)
                    first = (int64_t)g.v;
            } else if (g.num == PKT_TRACK_DESCRIPTOR && g.wt == 2) {
                struct ix_pb_reader d = {g.data, g.data + g.len};
                struct ix_pb_field h;
                while (ix_pb_next(&d, &h) == 1) {
                    if (h.num != TD_PROCESS || h.wt != 2)
                        continue;
                    struct ix_pb_reader pd = {h.data, h.data + h.len};
                    struct ix_pb_field q;
                    while (ix_pb_next(&pd, &q) == 1)
                        if (q.num == PD_PID && q.wt == 0)
                            process |= q.v == (uint64_t)pid;
                }
            } else if (g.num == PKT_TRACK_EVENT && g.wt == 2 && after < 0 &&
                       annotation_int(g.data, g.len, "tree_t0_ns", &t0)) {
                if (!annotation_int(g.data, g.len, "part_events", &want))
                    return INTROSPECT_EINVAL;
                after = 0;
            }
        }
        if (prc < 0 || !seq) /* malformed, or another process's sequence */
            return INTROSPECT_EINVAL;
    }
    if (rc < 0 || !process || t0 != base || after != want)
        return INTROSPECT_EINVAL;
    if (first_ts)
        *first_ts = first;
    return 0;
}

void ix_trace_perfetto_process_track(ix_buf *out, pid_t seq, pid_t pid, const char *name)
{
    ix_buf d;
    ix_buf_init(&d);
    put_varint(&d, PD_PID, (uint64_t)pid);
    put_str(&d, PD_PROCESS_NAME, name);
    track(out, seq, uuid(pid, TK_PROCESS, 0), 0, NULL, &d, TD_PROCESS);
    ix_buf_free(&d);
}

void ix_trace_perfetto_tree_notes(ix_buf *out, pid_t root, int64_t ts, int processes, int merged,
                                  const char *const *notes, int nnotes)
{
    ix_buf ev;
    ix_buf_init(&ev);
    put_varint(&ev, TE_TYPE, TYPE_INSTANT);
    put_varint(&ev, TE_TRACK_UUID, uuid(root, TK_PROCESS, 0));
    put_str(&ev, TE_CATEGORIES, "notes");
    put_str(&ev, TE_NAME, "process tree");
    da_int(&ev, "processes", processes);
    da_int(&ev, "merged", merged);
    for (int i = 0; i < nnotes; i++) {
        char key[32];
        snprintf(key, sizeof key, "note_%d", i + 1);
        da_str(&ev, key, notes[i]);
    }
    packet(out, root, PKT_TRACK_EVENT, &ev, ts);
    ix_buf_free(&ev);
}
