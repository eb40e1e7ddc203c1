/* The perf engine's ring reader against rings written by hand: samples that
 * wrap around the end of the data area, lost-sample records, records of
 * other types, a torn record; the tail always ends at the head. */
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sampling/cpu/perf_ring.h"

#define DATA 8192

static uint8_t *area;
static struct perf_event_mmap_page *pg;
static uint64_t wpos; /* where the next record goes (absolute, like data_head) */

static void put(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        area[4096 + (wpos + i) % DATA] = b[i];
    wpos += n;
}

static void put_sample(uint32_t tid, uint64_t ip, size_t stack_bytes)
{
    uint64_t regs[4] = {PERF_SAMPLE_REGS_ABI_64, 0x1000 /* bp */, 0x7000 /* sp */, ip};
    uint64_t size = stack_bytes, dyn = stack_bytes;
    struct perf_event_header h = {PERF_RECORD_SAMPLE, 0,
                                  (uint16_t)(sizeof h + 16 + sizeof regs + 8 + size + (size ? 8 : 0))};
    uint32_t pid_tid[2] = {1, tid};
    put(&h, sizeof h);
    uint64_t time = 12345; /* PERF_SAMPLE_TIME */
    put(pid_tid, 8);
    put(&time, 8);
    put(regs, sizeof regs);
    put(&size, 8);
    for (size_t i = 0; i < size; i++)
        put("\xab", 1);
    if (size)
        put(&dyn, 8);
}

static void put_lost(uint64_t n)
{
    struct perf_event_header h = {PERF_RECORD_LOST, 0, sizeof h + 16};
    uint64_t body[2] = {42, n};
    put(&h, sizeof h);
    put(body, sizeof body);
}

static void put_other(void)
{
    struct perf_event_header h = {PERF_RECORD_THROTTLE, 0, sizeof h + 24};
    uint64_t body[3] = {1, 2, 3};
    put(&h, sizeof h);
    put(body, sizeof body);
}

static uint32_t seen_tids[64];
static uintptr_t seen_pcs[64];
static int nseen;

static void on_rec(const struct ix_cpu_rec *r, void *arg)
{
    (void)arg;
    ASSERT_LT(nseen, 64);
    ASSERT_EQ(r->weight, 1);
    ASSERT_GE(r->npcs, 1);
    seen_tids[nseen] = (uint32_t)r->tid;
    seen_pcs[nseen++] = r->pcs[0];
}

static uint32_t drain(struct ix_cpu_arm *a, struct ix_cpu_perf_stats *st)
{
    __atomic_store_n(&pg->data_head, wpos, __ATOMIC_RELEASE);
    uint32_t got = ix_cpu_perf_ring_drain(a, on_rec, NULL, st);
    ASSERT_EQ(pg->data_tail, wpos); /* everything consumed */
    return got;
}

/* A fresh ring, empty. */
static struct ix_cpu_arm ring(void)
{
    area = calloc(1, 4096 + DATA);
    ASSERT(area);
    pg = (struct perf_event_mmap_page *)area;
    pg->data_offset = 4096;
    pg->data_size = DATA;
    wpos = 0;
    nseen = 0;
    struct ix_cpu_arm a = {.kind = IX_ARM_PERF_RING, .fd = -1, .map = area};
    return a;
}

TEST(samples_read_lost_counted_other_types_skipped)
{
    struct ix_cpu_arm a = ring();
    struct ix_cpu_perf_stats st = {0};
    put_sample(101, 0x400100, 512);
    put_lost(7);
    put_other();
    put_sample(102, 0x400200, 0);
    ASSERT_EQ(drain(&a, &st), 2);
    ASSERT_EQ(st.lost, 7);
    ASSERT_EQ(st.samples, 2);
    ASSERT_EQ(seen_tids[0], 101);
    ASSERT_EQ(seen_pcs[0], 0x400101); /* the PC convention: leaf pc + 1 */
    ASSERT_EQ(seen_tids[1], 102);
    free(area);
}

TEST(records_straddling_the_end_are_reassembled)
{
    struct ix_cpu_arm a = ring();
    struct ix_cpu_perf_stats st = {0};
    pg->data_tail = wpos = 3 * DATA - 20; /* absolute positions keep growing */
    put_sample(103, 0x400300, 1000);
    put_sample(104, 0x400400, 3000);
    put_lost(2);
    ASSERT_EQ(drain(&a, &st), 2);
    ASSERT_EQ(seen_tids[0], 103);
    ASSERT_EQ(seen_tids[1], 104);
    ASSERT_EQ(seen_pcs[1], 0x400401);
    ASSERT_EQ(st.lost, 2);
    ASSERT_EQ(st.samples, 2);
    free(area);
}

/* A torn header (size 0) or a size running past the head: the reader
 * resynchronizes at the head, and serves normally afterwards. */
TEST(torn_records_resynchronize_at_head)
{
    struct ix_cpu_arm a = ring();
    struct ix_cpu_perf_stats st = {0};
    struct perf_event_header bad = {PERF_RECORD_SAMPLE, 0, 0};
    put(&bad, sizeof bad);
    put_sample(105, 0x400500, 64);
    ASSERT_EQ(drain(&a, &st), 0);
    struct perf_event_header big = {PERF_RECORD_SAMPLE, 0, 4000};
    put(&big, sizeof big);
    ASSERT_EQ(drain(&a, &st), 0);
    put_sample(106, 0x400600, 128);
    ASSERT_EQ(drain(&a, &st), 1);
    ASSERT_EQ(seen_tids[0], 106);
    free(area);
}

TEST(non_ring_arm_reads_nothing)
{
    struct ix_cpu_perf_stats st = {0};
    struct ix_cpu_arm timer = {.kind = IX_ARM_TIMER, .fd = -1};
    ASSERT_EQ(ix_cpu_perf_ring_drain(&timer, on_rec, NULL, &st), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(samples_read_lost_counted_other_types_skipped),
    TEST_ENTRY(records_straddling_the_end_are_reassembled),
    TEST_ENTRY(torn_records_resynchronize_at_head),
    TEST_ENTRY(non_ring_arm_reads_nothing),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
