/* The Chrome trace-event JSON of an execution trace (see format/trace_json.h). */
#include "format/trace_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/symbolizer.h"
#include "util/json.h"

static const char *const what_cat[] = {"task", "pool", "mutex", "state", "state"};

static void put_us(ix_buf *b, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    ix_buf_printf(b, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static void task_id(ix_buf *b, uint64_t id)
{
    ix_buf_printf(b, "\"%u.%u\"", (unsigned)((uint32_t)id - 1), (unsigned)(id >> 32));
}

static void span_name(ix_buf *b, const struct ix_trace_span *s)
{
    char name[160];
    ix_trace_span_title(s, name, sizeof name);
    ix_json_quote(b, name);
}

static void span_args(ix_buf *b, const struct ix_trace *t, const struct ix_trace_span *s)
{
    ix_buf_puts(b, ",\"args\":{");
    switch (s->what) {
    case IX_SPAN_TASK:
        ix_buf_puts(b, "\"task\":");
        task_id(b, s->task);
        ix_buf_puts(b, ",\"kind\":");
        ix_json_quote(b, s->kind);
        ix_buf_puts(b, ",\"name\":");
        ix_json_quote(b, s->name);
        if (s->status[0]) {
            ix_buf_puts(b, ",\"status\":");
            ix_json_quote(b, s->status);
        }
        if (s->deadline) {
            ix_buf_puts(b, ",\"deadline_us\":");
            put_us(b, s->deadline - t->t0);
        }
        ix_buf_printf(b, ",\"overdue\":%s", s->overdue ? "true" : "false");
        if (s->began_before)
            ix_buf_puts(b, ",\"began_before_trace\":true");
        if (s->open)
            ix_buf_puts(b, ",\"still_running\":true");
        break;
    case IX_SPAN_POOL:
    case IX_SPAN_MUTEX:
        if (s->what == IX_SPAN_POOL) {
            static const char *const outcome[] = {"got", "timeout", "cancelled", "failed"};
            ix_buf_puts(b, "\"pool\":");
            ix_json_quote(b, s->name);
            ix_buf_printf(b, ",\"outcome\":\"%s\",",
                          s->value >= 0 && s->value < 4 ? outcome[s->value] : "?");
        } else {
            ix_buf_puts(b, "\"lock\":");
            ix_json_quote(b, s->kind);
            ix_buf_putc(b, ',');
        }
        ix_buf_puts(b, "\"task\":");
        if (s->task)
            task_id(b, s->task);
        else
            ix_buf_puts(b, "null");
        ix_buf_puts(b, ",\"wait_ms\":");
        ix_buf_printf(b, "%.3f", (double)s->dur / 1e6);
        if (s->began_before)
            ix_buf_puts(b, ",\"began_before_trace\":true");
        break;
    default:
        ix_buf_printf(b, "\"thread\":%d,\"state\":\"%c\"", (int)s->tid, s->kind[0] ? s->kind[0] : '?');
        break;
    }
    ix_buf_putc(b, '}');
}


static void event_head(ix_buf *b, const char *ph, const struct ix_trace *t, long long tid,
                       int64_t ts)
{
    ix_buf_printf(b, ",\n{\"ph\":\"%s\",\"pid\":%d,\"tid\":%lld,\"ts\":", ph, (int)t->pid, tid);
    put_us(b, ts - t->t0);
}

/* Each used stack of table as a chain of frames, root first:
 * "<prefix><id>.<depth>" (prefix s: blocked intervals' stacks, c: CPU
 * samples'). *first says whether no frame was written yet. */
static void stack_frames(ix_buf *b, struct ix_symbolizer *sym, const struct ix_stack_table *table,
                         const char *ns, char prefix, const unsigned char *used, int n,
                         int *first_p)
{
    int first = *first_p;
    for (int id = 0; id < n; id++) {
        if (!used[id])
            continue;
        int npcs = 0, key = 0;
        const uintptr_t *pcs = ix_stack_frames(table, id, &npcs, &key);
        int depth = 0;
        for (int i = npcs; i-- > 0;) {
            struct ix_sym_line lines[8];
            char unknown[IX_TRACE_PC_TEXT];
            int nl = ix_trace_pc_lines(sym, pcs[i], lines, 8, unknown);
            for (int l = nl; l-- > 0;) { /* inlined callee last: deeper */
                ix_buf_printf(b, "%s\n\"%s%c%d.%d\":{\"name\":", first ? "" : ",", ns, prefix, id,
                              depth);
                first = 0;
                ix_json_quote(b, lines[l].function ? lines[l].function : "?");
                if (lines[l].file) {
                    char where[300];
                    snprintf(where, sizeof where, "%s:%d", lines[l].file, lines[l].line);
                    ix_buf_puts(b, ",\"category\":");
                    ix_json_quote(b, where);
                }
                if (depth > 0)
                    ix_buf_printf(b, ",\"parent\":\"%s%c%d.%d\"", ns, prefix, id, depth - 1);
                ix_buf_putc(b, '}');
                depth++;
            }
        }
    }
    *first_p = first;
}

/* The leaf frame id of a stack (its depth - 1), computed as stack_frames
 * counts them, -1 when it has none; leaf (when not NULL) gets the leaf
 * function's name. */
static int leaf_depth(struct ix_symbolizer *sym, const struct ix_stack_table *table, int id,
                      char *leaf, size_t leaflen)
{
    int npcs = 0, key = 0;
    const uintptr_t *pcs = ix_stack_frames(table, id, &npcs, &key);
    int depth = 0;
    for (int i = 0; i < npcs; i++) {
        struct ix_sym_line lines[8];
        char unknown[IX_TRACE_PC_TEXT];
        int nl = ix_trace_pc_lines(sym, pcs[i], lines, 8, unknown);
        if (i == 0 && leaf)
            snprintf(leaf, leaflen, "%s", lines[0].function ? lines[0].function : "?");
        depth += nl;
    }
    return depth - 1;
}

/* The stacks of one table that events use, with their leaf frame depths
 * (and, for CPU samples, leaf names). */
struct used_stacks {
    const struct ix_stack_table *table;
    int n;
    unsigned char *used;
    int *leaf;
    char (*name)[64]; /* NULL when names are not wanted */
    uint64_t dropped;
};

static int used_init(struct used_stacks *u, struct ix_stack_table *table, int names)
{
    memset(u, 0, sizeof *u);
    u->table = table;
    u->n = table ? (int)ix_stack_size(table, &u->dropped) : 0;
    u->used = calloc((size_t)u->n + 1, 1);
    u->leaf = calloc((size_t)u->n + 1, sizeof *u->leaf);
    u->name = names ? calloc((size_t)u->n + 1, sizeof *u->name) : NULL;
    return u->used && u->leaf && (!names || u->name) ? 0 : -1;
}

static void used_mark(struct used_stacks *u, struct ix_symbolizer *sym, int id)
{
    if (id < 0 || id >= u->n || !u->used || !u->leaf || u->used[id])
        return;
    u->used[id] = 1;
    u->leaf[id] = leaf_depth(sym, u->table, id, u->name ? u->name[id] : NULL, 64);
}

/* The leaf frame of stack id, written as ,"sf":"<prefix><id>.<depth>". */
static void put_sf(ix_buf *b, const struct used_stacks *u, const char *ns, char prefix, int id)
{
    if (id >= 0 && id < u->n && u->used && u->leaf && u->used[id] && u->leaf[id] >= 0)
        ix_buf_printf(b, ",\"sf\":\"%s%c%d.%d\"", ns, prefix, id, u->leaf[id]);
}

static void used_free(struct used_stacks *u)
{
    free(u->used);
    free(u->leaf);
    free(u->name);
}

void ix_trace_json(const struct ix_trace *trace, const struct ix_trace_json_part *part, ix_buf *b)
{
    /* A part counts time from the tree's base and puts its pid in the ids
     * the merged trace shares: "<pid>:" before frame ids, pid << 31 added
     * to span and flow ids (below 2^53 for any pid, exact as JSON numbers). */
    struct ix_trace shifted = *trace;
    const struct ix_trace *t = trace;
    char ns[24] = "";
    unsigned long long idbase = 0;
    if (part) {
        shifted.t0 = part->base;
        t = &shifted;
        snprintf(ns, sizeof ns, "%d:", (int)trace->pid);
        idbase = (unsigned long long)(unsigned)trace->pid << 31;
    }
    ix_buf_puts(b, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    char pname[128];
    if (part && part->name)
        snprintf(pname, sizeof pname, "%s", part->name);
    else
        ix_trace_process_name(t->pid, pname, sizeof pname);
    ix_buf_printf(b, "{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":",
                  (int)t->pid);
    ix_json_quote(b, pname);
    ix_buf_puts(b, "}}");
    for (size_t i = 0; i < t->nthreads; i++) {
        const struct ix_trace_thread *th = &t->threads[i];
        char name[96];
        for (int lane = 0; lane < 2; lane++) {
            long long tid = th->tid + (lane ? (long long)IX_TRACE_STATE_TID : 0);
            snprintf(name, sizeof name, lane ? "%s (%d) state" : "%s (%d)", th->name, (int)th->tid);
            ix_buf_printf(b, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,\"name\":\"thread_name\",\"args\":{\"name\":",
                          (int)t->pid, tid);
            ix_json_quote(b, name);
            ix_buf_printf(b, "}},\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,"
                          "\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%lld}}",
                          (int)t->pid, tid, (long long)th->tid * 2 + lane);
        }
    }
    /* Which stacks are used, and their leaf frame ids. */
    struct used_stacks ss, cs;
    int stacks_ok = used_init(&ss, t->stacks, 0) == 0;
    int cpu_ok = used_init(&cs, t->cpu_stacks, 1) == 0;
    uint64_t sdrop = ss.dropped;
    struct ix_symbolizer *sym = ix_symbolizer_new();
    for (size_t i = 0; i < t->nspans; i++)
        used_mark(&ss, sym, t->spans[i].stack);
    for (size_t i = 0; i < t->ncpu; i++)
        used_mark(&cs, sym, t->cpu[i].stack);
    /* Spans: lane spans checked for nesting, state spans as they are. */
    size_t *order = malloc((t->nspans + 1) * sizeof *order);
    unsigned char *nests = malloc(t->nspans + 1);
    size_t nlane = order && nests ? ix_trace_lane_spans(t, order, nests) : 0, nasync = 0;
    for (size_t k = 0; k < nlane; k++) {
        const struct ix_trace_span *s = &t->spans[order[k]];
        int64_t end = s->ts + s->dur;
        if (!nests[k]) { /* overlaps without nesting: async */
            nasync++;
            for (int e = 0; e < 2; e++) {
                event_head(b, e ? "e" : "b", t, s->tid, e ? end : s->ts);
                ix_buf_printf(b, ",\"cat\":\"%s\",\"id\":\"0x%llx\",\"name\":", what_cat[s->what],
                              idbase + order[k] + 1);
                span_name(b, s);
                if (!e)
                    span_args(b, t, s);
                ix_buf_putc(b, '}');
            }
            continue;
        }
        event_head(b, "X", t, s->tid, s->ts);
        ix_buf_puts(b, ",\"dur\":");
        put_us(b, s->dur);
        ix_buf_printf(b, ",\"cat\":\"%s\",\"name\":", what_cat[s->what]);
        span_name(b, s);
        span_args(b, t, s);
        ix_buf_putc(b, '}');
        if (s->what == IX_SPAN_TASK && s->overdue && s->deadline > s->ts && s->deadline < end) {
            event_head(b, "i", t, s->tid, s->deadline);
            ix_buf_puts(b, ",\"s\":\"t\",\"cat\":\"task\",\"name\":\"deadline missed\",\"args\":{\"task\":");
            task_id(b, s->task);
            ix_buf_puts(b, "}}");
        }
    }
    for (size_t i = 0; i < t->nspans; i++) {
        const struct ix_trace_span *s = &t->spans[i];
        if (s->what <= IX_SPAN_MUTEX)
            continue;
        event_head(b, "X", t, (long long)s->tid + IX_TRACE_STATE_TID, s->ts);
        ix_buf_puts(b, ",\"dur\":");
        put_us(b, s->dur);
        ix_buf_puts(b, ",\"cat\":\"state\",\"name\":");
        span_name(b, s);
        put_sf(b, &ss, ns, 's', s->stack);
        span_args(b, t, s);
        ix_buf_putc(b, '}');
    }
    for (size_t i = 0; i < t->nflows; i++) {
        const struct ix_trace_flow *fl = &t->flows[i];
        for (int e = 0; e < 2; e++) {
            event_head(b, e ? "f" : "s", t, e ? fl->tid1 : fl->tid0, e ? fl->ts1 : fl->ts0);
            ix_buf_printf(b, ",\"cat\":\"flow\",\"name\":\"task moves\",\"id\":%llu%s,\"args\":{\"task\":",
                          idbase + i + 1, e ? ",\"bp\":\"e\"" : "");
            task_id(b, fl->task);
            ix_buf_puts(b, "}}");
        }
    }
    for (size_t i = 0; i < t->nsamples; i++) {
        const struct ix_trace_sample *c = &t->samples[i];
        event_head(b, "C", t, 0, c->ts);
        ix_buf_puts(b, ",\"name\":");
        ix_json_quote(b, t->series[c->series]);
        ix_buf_puts(b, ",\"args\":{\"value\":");
        ix_buf_put_double(b, c->value);
        ix_buf_puts(b, "}}");
    }
    /* CPU samples: instants on their thread's lane, named for the leaf
     * function, "sf" at the sampled stack. */
    for (size_t i = 0; i < t->ncpu; i++) {
        const struct ix_trace_cpu *c = &t->cpu[i];
        event_head(b, "i", t, c->tid, c->ts);
        ix_buf_puts(b, ",\"s\":\"t\",\"cat\":\"cpu\",\"name\":");
        int named = c->stack >= 0 && c->stack < cs.n && cs.name && cs.used && cs.used[c->stack];
        ix_json_quote(b, named ? cs.name[c->stack] : "cpu sample");
        put_sf(b, &cs, ns, 'c', c->stack);
        ix_buf_printf(b, ",\"args\":{\"weight\":%d}}", c->weight);
    }
    ix_buf_puts(b, "\n]");
    ix_buf_puts(b, ",\n\"stackFrames\":{");
    int first = 1;
    if (stacks_ok)
        stack_frames(b, sym, t->stacks, ns, 's', ss.used, ss.n, &first);
    if (cpu_ok)
        stack_frames(b, sym, t->cpu_stacks, ns, 'c', cs.used, cs.n, &first);
    ix_buf_puts(b, "}");
    if (sym)
        ix_symbolizer_free(sym);
    ix_buf_printf(b,
                  ",\n\"otherData\":{\"producer\":\"introspect\",\"pid\":%d,\"t0_ns\":%lld,"
                  "\"duration_ms\":%.3f,\"dropped_events\":%llu,\"recorded_events\":%llu,"
                  "\"recording_threads\":%d,\"ring_bytes\":%zu,\"state_hz\":%ld,\"ticks\":%llu,"
                  "\"late_ticks\":%llu,\"blocked_walks\":%llu,\"blocked_walks_skipped\":%llu,"
                  "\"short_pool_waits_not_drawn\":%llu,\"async_spans\":%zu,\"stacks_dropped\":%llu,"
                  "\"incomplete\":%s,\"sampler_cpu_ms\":%.1f,",
                  (int)t->pid, (long long)t->t0, (double)(trace->t1 - trace->t0) / 1e6,
                  (unsigned long long)t->dropped, (unsigned long long)t->records, t->rings,
                  t->ring_bytes, t->state_hz, (unsigned long long)t->ticks,
                  (unsigned long long)t->late_ticks, (unsigned long long)t->walks,
                  (unsigned long long)t->walks_skipped, (unsigned long long)t->short_pool_waits,
                  nasync, (unsigned long long)sdrop, t->oom ? "true" : "false",
                  (double)t->sampler_cpu_ns / 1e6);
    ix_buf_puts(b, "\"method\":");
    ix_json_quote(b,
                  "tasks, pool acquires (waits of 10 us or more drawn) and contended mutex waits "
                  "(when the mutex interposer is compiled in) are recorded exactly by the threads "
                  "themselves into per-thread rings (full rings drop the newest events, counted "
                  "in dropped_events); thread states are sampled from /proc/self/task/*/stat at "
                  "state_hz, so running/blocked intervals have that resolution; a thread blocked "
                  "across a whole tick is walked without a signal for the stack of its blocking "
                  "call; "
                  "counters every 10 ms; CPU samples (instants of category cpu on the thread's "
                  "lane, with their stack) come from the CPU profiler's engine at cpu_hz, each "
                  "standing for weight periods of the thread's CPU time");
    ix_buf_printf(b, ",\"cpu_hz\":%ld,\"cpu_samples\":%zu,\"cpu_samples_dropped\":%llu,"
                     "\"cpu_samples_outside_window\":%llu,\"cpu_stacks_dropped\":%llu,"
                     "\"cpu_samples_max\":%zu,\"cpu_note\":",
                  t->cpu_hz, t->ncpu, (unsigned long long)t->cpu_dropped,
                  (unsigned long long)t->cpu_outside, (unsigned long long)cs.dropped, t->max_cpu);
    ix_json_quote(b, t->cpu_note);
    ix_buf_puts(b, "}}\n");
    used_free(&ss);
    used_free(&cs);
    free(order);
    free(nests);
}
