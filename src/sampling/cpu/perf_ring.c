/* Reading the perf engine's rings (see sampling/cpu/perf_ring.h). The kernel appends
 * records at data_head; we consume up to it and publish data_tail so it can
 * reuse the space. Records may wrap around the end of the data area. */
#include "sampling/cpu/perf_ring.h"

#include <linux/perf_event.h>
#include <string.h>

#include "labels/labels.h"
#include "stack/unwind.h"
#include "introspect.h"

/* One sample record: header, pid/tid, regs ABI + 3 registers, stack size,
 * the stack bytes, the dynamic size; its size is a u16. */
#define MAX_RECORD 65536

struct sample_view {
    uint32_t tid;
    uint64_t time; /* CLOCK_MONOTONIC ns (use_clockid), 0 if absent */
    uint64_t bp, sp, ip;
    int has_regs;
    const uint8_t *stack;
    uint64_t stack_len;
    uint64_t stack_asked; /* the copy's size in the record: stack_len is less at a hole */
};

/* Copies of wrapped records; only the profiling thread drains (one CPU
 * profile at a time). */
static uint8_t g_scratch[MAX_RECORD];
static struct ix_cpu_rec g_rec;

static int parse_sample(const uint8_t *p, size_t size, struct sample_view *s)
{
    const uint8_t *end = p + size;
    uint64_t v[4];
    p += sizeof(struct perf_event_header);
    if (end - p < 24)
        return INTROSPECT_EINVAL;
    uint32_t pid_tid[2];
    memcpy(pid_tid, p, 8);
    s->tid = pid_tid[1];
    memcpy(&s->time, p + 8, 8);
    memcpy(&v[0], p + 16, 8); /* regs ABI */
    p += 24;
    s->has_regs = v[0] != PERF_SAMPLE_REGS_ABI_NONE;
    if (s->has_regs) {
        if (end - p < 24)
            return INTROSPECT_EINVAL;
        memcpy(v + 1, p, 24);
        s->bp = v[1];
        s->sp = v[2];
        s->ip = v[3];
        p += 24;
    }
    if (end - p < 8)
        return INTROSPECT_EINVAL;
    uint64_t len;
    memcpy(&len, p, 8);
    p += 8;
    s->stack = p;
    s->stack_len = 0;
    if (len) {
        if ((uint64_t)(end - p) < len + 8)
            return INTROSPECT_EINVAL;
        uint64_t dyn;
        memcpy(&dyn, p + len, 8);
        s->stack_len = dyn < len ? dyn : len;
        s->stack_asked = len;
    }
    return 0;
}

static void emit_sample(const struct sample_view *s, void (*fn)(const struct ix_cpu_rec *, void *),
                        void *arg, struct ix_cpu_perf_stats *st)
{
    g_rec.tid = (pid_t)s->tid;
    g_rec.weight = 1;
    g_rec.npcs = 0;
    g_rec.ts = s->time ? (int64_t)s->time : 0;
    /* Read later than taken: the thread's labels at the sample's time come
     * from its change log, never from its live TLS. */
    g_rec.labels = ix_labels_at((pid_t)s->tid, (int64_t)s->time);
    if (g_rec.labels == IX_LABELS_UNKNOWN)
        g_rec.labels = 0;
    if (s->has_regs) {
        int status;
        g_rec.npcs = ix_unwind_copy(s->ip, s->sp, s->bp, s->stack, s->stack_len, g_rec.pcs,
                                    IX_CPU_MAX_DEPTH, &status);
        st->truncated += (status & IX_COPY_CUT) != 0;
        st->holes += (status & IX_COPY_CUT) && s->stack_len < s->stack_asked;
        st->root += (status & IX_COPY_ROOT) != 0;
    }
    st->samples++;
    fn(&g_rec, arg);
}

uint32_t ix_cpu_perf_ring_drain(struct ix_cpu_arm *a, void (*fn)(const struct ix_cpu_rec *, void *),
                                void *arg, struct ix_cpu_perf_stats *st)
{
    if (a->kind != IX_ARM_PERF_RING || !a->map)
        return 0;
    struct perf_event_mmap_page *pg = a->map;
    const uint8_t *data = (const uint8_t *)a->map + pg->data_offset;
    uint64_t size = pg->data_size, head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = pg->data_tail;
    uint32_t got = 0;
    while (head - tail >= sizeof(struct perf_event_header)) {
        struct perf_event_header h;
        uint64_t off = tail % size;
        const uint8_t *rec = data + off;
        if (off + sizeof h > size) {
            memcpy(&h, rec, size - off);
            memcpy((uint8_t *)&h + (size - off), data, sizeof h - (size - off));
        } else {
            memcpy(&h, rec, sizeof h);
        }
        if (h.size < sizeof h || h.size > head - tail)
            break; /* torn or corrupt: resynchronize at head */
        if (off + h.size > size) { /* wrapped: make it contiguous (a record fits: u16 size) */
            memcpy(g_scratch, rec, size - off);
            memcpy(g_scratch + (size - off), data, h.size - (size - off));
            rec = g_scratch;
        }
        if (h.type == PERF_RECORD_SAMPLE) {
            struct sample_view s = {0};
            if (parse_sample(rec, h.size, &s) == 0) {
                emit_sample(&s, fn, arg, st);
                got++;
            }
        } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof h + 16) {
            uint64_t lost;
            memcpy(&lost, rec + sizeof h + 8, 8);
            st->lost += lost;
        }
        tail += h.size;
    }
    __atomic_store_n(&pg->data_tail, head, __ATOMIC_RELEASE);
    return got;
}
