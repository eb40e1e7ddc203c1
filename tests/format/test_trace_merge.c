/* The merge of a process tree's trace parts (format/trace_merge.h), on
 * parts the real encoders write (format/trace_json.h and trace_perfetto.h
 * in part mode): the merged trace passes tests/trace/check_trace.py (or,
 * decoded by protoc, check_perfetto.py) with every pid's events, process
 * names and ids apart; a part cut anywhere, of another pid or another base
 * is named missing and never read past its end (ASan runs this: each cut
 * part sits in a buffer of exactly its length). */
#define _GNU_SOURCE
#include <stdarg.h>

#include "harness.h"
#include "format/trace_json.h"
#include "format/trace_merge.h"
#include "format/trace_perfetto.h"
#include "model/trace.h"

#define BASE 5000000000LL

/* A part of process pid: a thread with two overlapping (async) task
 * spans, a task moving to a second thread (a flow) and a counter. */
static void make_part(int perfetto, int pid, int64_t base, ix_buf *out)
{
    struct ix_trace t;
    memset(&t, 0, sizeof t);
    t.pid = pid;
    t.t0 = base + 1000000;
    t.t1 = base + 101000000;
    t.state_hz = 1000;
    t.cpu_hz = 100;
    ix_trace_thread(&t, pid + 1, "worker");
    ix_trace_thread(&t, pid + 2, "other");
    for (int i = 0; i < 2; i++) {
        struct ix_trace_span *s = ix_trace_add_span(&t);
        ASSERT(s);
        s->what = IX_SPAN_TASK;
        s->tid = pid + 1;
        s->ts = t.t0 + 1000000 + i * 2000000;
        s->dur = 3000000;
        s->task = (uint64_t)(i + 1);
        s->stack = -1;
        snprintf(s->kind, sizeof s->kind, "request");
        snprintf(s->name, sizeof s->name, "GET /%d", i);
    }
    struct ix_trace_flow *f = ix_trace_add_flow(&t);
    ASSERT(f);
    *f = (struct ix_trace_flow){1, t.t0 + 1500000, t.t0 + 2500000, pid + 1, pid + 2};
    ix_trace_add_sample(&t, t.t0 + 10000, ix_trace_series(&t, "rss bytes"), 1e6 + pid);
    char name[64];
    snprintf(name, sizeof name, "srv (pid %d)", pid);
    if (perfetto) {
        struct ix_trace_perfetto_part part = {base, name};
        ASSERT_EQ(ix_trace_perfetto(&t, &part, out), 0);
    } else {
        struct ix_trace_json_part part = {base, name};
        ix_trace_json(&t, &part, out);
    }
    ix_trace_free(&t);
    ASSERT(!out->oom);
}

static void check(int perfetto, const char *body, size_t len, const char *fmt, ...)
{
    char path[64], args[256], cmd[1024];
    const char *checker = perfetto ? "check_perfetto.py" : "check_trace.py";
    snprintf(path, sizeof path, "/tmp/ix_trace_merge_%d.%s", (int)getpid(),
             perfetto ? "pftrace" : "json");
    FILE *fp = fopen(path, "wb");
    ASSERT(fp);
    fwrite(body, 1, len, fp);
    fclose(fp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *src = getenv("IX_SOURCE_DIR");
    snprintf(cmd, sizeof cmd, "python3 %s/tests/trace/%s %s %s 2>&1", src ? src : ".", checker,
             path, args);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    unlink(path);
    if (rc != 0)
        ix_test_fail(__FILE__, __LINE__, "%s failed (%d):\n%s", checker, rc, out ? out : "");
    free(out);
}

/* The merge of each encoding (perfetto 0: JSON, 1: Perfetto). */
static int merge(int perfetto, const struct ix_trace_part *parts, int n, int total, int64_t base,
                 const char *const *notes, int nnotes, ix_buf *out)
{
    return perfetto ? ix_trace_merge_perfetto(parts, n, total, base, notes, nnotes, out)
                    : ix_trace_merge(parts, n, total, base, notes, nnotes, out);
}

static void spliced(int perfetto)
{
    ix_buf a, b, m;
    ix_buf_init(&a);
    ix_buf_init(&b);
    ix_buf_init(&m);
    make_part(perfetto, 100, BASE, &a);
    make_part(perfetto, 200, BASE, &b);
    /* Perfetto names the missing process with a track: it is a part without data. */
    struct ix_trace_part parts[] = {{a.data, a.len, 100, "srv"}, {b.data, b.len, 200, "srv"},
                                    {NULL, 0, 300, "srv"}};
    const char *notes[] = {"introspect: pid 300 (srv) is missing: no answer in 11000 ms"};
    ASSERT_EQ(merge(perfetto, parts, perfetto ? 3 : 2, 3, BASE, notes, 1, &m), 2);
    check(perfetto, m.data, m.len, "--tree-pids 100,200 --tree-missing 300");
    /* Each part alone is a trace too (the same encoder's layout). */
    check(perfetto, a.data, a.len, "%s", "");
    ix_buf_putc(&m, '\0');
    if (perfetto) {
        ASSERT(memmem(m.data, m.len, "srv (pid 300): missing", 22));
        ASSERT(memmem(m.data, m.len, "2 of 3 processes merged", 23));
    } else {
        ASSERT_STR_CONTAINS(m.data, "\"process_sort_index\"");
        ASSERT_STR_CONTAINS(m.data, "\"t0_ns\":5000000000");
        ASSERT_STR_CONTAINS(m.data, "introspect: process tree: 2 of 3 processes merged");
    }
    ix_buf_free(&a);
    ix_buf_free(&b);
    ix_buf_free(&m);
}

TEST(parts_are_spliced_with_every_pid_and_its_ids_apart) { spliced(0); }

TEST(perfetto_parts_are_concatenated_with_every_pid_and_its_ids_apart) { spliced(1); }

static void cut_or_foreign(int perfetto)
{
    ix_buf a, b;
    ix_buf_init(&a);
    ix_buf_init(&b);
    make_part(perfetto, 100, BASE, &a);
    make_part(perfetto, 200, BASE, &b);
    int merged_whole = 0;
    for (size_t len = 0; len <= b.len; len++) {
        char *cut = malloc(len ? len : 1); /* no NUL after it */
        ASSERT(cut);
        memcpy(cut, b.data, len);
        struct ix_trace_part parts[] = {{a.data, a.len, 100, "srv"}, {cut, len, 200, "srv"}};
        ix_buf m;
        ix_buf_init(&m);
        int n = merge(perfetto, parts, 2, 2, BASE, NULL, 0, &m);
        /* Only cuts within the trailing newline (JSON) still hold the
         * whole document; Perfetto's whole part only. */
        if (n == 2) {
            merged_whole++;
        } else {
            ASSERT_EQ(n, 1);
            ASSERT(memmem(m.data, m.len, "pid 200 (srv) is missing: its trace could not be read",
                          53));
        }
        ix_buf_free(&m);
        free(cut);
    }
    if (perfetto)
        ASSERT_EQ(merged_whole, 1);
    else
        ASSERT(merged_whole >= 1 && merged_whole <= 2);
    /* Another pid than the one asked, or another base: not merged. */
    struct ix_trace_part wrong_pid[] = {{a.data, a.len, 100, "srv"}, {b.data, b.len, 201, "srv"}};
    ix_buf m;
    ix_buf_init(&m);
    ASSERT_EQ(merge(perfetto, wrong_pid, 2, 2, BASE, NULL, 0, &m), 1);
    ix_buf_free(&m);
    ix_buf_init(&m);
    ASSERT_EQ(merge(perfetto, wrong_pid, 2, 2, BASE + 1, NULL, 0, &m), 0);
    ASSERT_EQ(m.len, 0);
    ix_buf_free(&m);
    ix_buf_free(&a);
    ix_buf_free(&b);
}

TEST(a_part_cut_anywhere_or_foreign_is_named_not_merged) { cut_or_foreign(0); }

TEST(a_perfetto_part_cut_anywhere_or_foreign_is_named_not_merged) { cut_or_foreign(1); }

static const struct ix_test tests[] = {
    TEST_ENTRY(parts_are_spliced_with_every_pid_and_its_ids_apart),
    TEST_ENTRY(a_part_cut_anywhere_or_foreign_is_named_not_merged),
    TEST_ENTRY(perfetto_parts_are_concatenated_with_every_pid_and_its_ids_apart),
    TEST_ENTRY(a_perfetto_part_cut_anywhere_or_foreign_is_named_not_merged),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
