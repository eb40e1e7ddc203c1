/* The encoders of the listing endpoints on models built by hand, byte for
 * byte: /debug/pprof/tasks (format/tasks.h), the /debug/pprof/ index
 * (format/index.h) and /debug/vars (format/expvar.h). The models are plain
 * data, so no registry, route table or server is needed; the endpoints'
 * HTTP tests (tasks.*, http.index_*, vars.*) check what fills them. */
#include "harness.h"

#include <string.h>

#include "format/expvar.h"
#include "format/index.h"
#include "format/tasks.h"
#include "introspect.h"
#include "util/buf.h"

/* Two kinds; three tasks: one without a deadline on a thread, one overdue,
 * one with its deadline ahead and no thread. No birth stacks (r NULL). */
static void tasks_build(struct ix_task_list *l, struct ix_task_kind_figures k[2],
                        struct ix_task_state_count st[3], struct ix_task_row rows[3], int birth[3])
{
    memset(l, 0, sizeof *l);
    st[0] = (struct ix_task_state_count){"reading", 1, 0};
    st[1] = (struct ix_task_state_count){"none", 1, 1};
    st[2] = (struct ix_task_state_count){"none", 1, 0};
    k[0] = (struct ix_task_kind_figures){"http", 2, 1, 10, 8, 3, st, 2};
    k[1] = (struct ix_task_kind_figures){"job", 1, 0, 4, 3, 0, st + 2, 1};
    l->all = (struct ix_task_kind_figures){NULL, 3, 1, 14, 11, 3, NULL, 0};
    l->dropped = 2;
    l->stack_every = 0;
    l->now_ns = 10000000000LL;
    rows[0] = (struct ix_task_row){1, 1, "http", "reading", 4242, 7000000000LL, 0, "/a"};
    rows[1] = (struct ix_task_row){2, 3, "http", "", 0, 8000000000LL, 9500000000LL, "/b \"q\""};
    rows[2] = (struct ix_task_row){3, 1, "job", "", 0, 9000000000LL, 12000000000LL, "sweep"};
    for (int i = 0; i < 3; i++)
        birth[i] = -1;
    l->kinds = k;
    l->nkinds = 2;
    l->rows = rows;
    l->birth = birth;
    l->n = 3;
}

static void tasks_encode(int json, unsigned stack_every, ix_buf *b)
{
    struct ix_task_list l;
    struct ix_task_kind_figures k[2];
    struct ix_task_state_count st[3];
    struct ix_task_row rows[3];
    int birth[3];
    tasks_build(&l, k, st, rows, birth);
    l.stack_every = stack_every;
    ix_buf_init(b);
    if (json)
        ix_tasks_json(&l, NULL, b);
    else
        ix_tasks_text(&l, NULL, b);
    ASSERT(!b->oom);
}

static const char want_tasks_text[] =
    "tasks: 3 live, 1 overdue; since start 14 started, 11 ended, 3 deadline misses, "
    "2 refused at the live limit\n"
    "birth stacks: off (set INTROSPECT_TASK_STACKS=N to capture 1 in N)\n"
    "\n"
    "kind http: 2 live, 1 overdue, 10 started, 8 ended, 3 deadline misses\n"
    "  state \"reading\": 1 live, 0 overdue\n"
    "  state \"none\": 1 live, 1 overdue\n"
    "\n"
    "kind job: 1 live, 0 overdue, 4 started, 3 ended, 0 deadline misses\n"
    "  state \"none\": 1 live, 0 overdue\n"
    "\n"
    "task 1.1 http \"/a\" age 3.000s state \"reading\" no deadline thread 4242\n"
    "task 2.3 http \"/b \"q\"\" age 2.000s state \"\" OVERDUE by 0.500s "
    "(deadline was 1.500s after begin)\n"
    "task 3.1 job \"sweep\" age 1.000s state \"\" deadline in 2.000s\n";

TEST(tasks_text_is_byte_exact)
{
    ix_buf b;
    tasks_encode(0, 0, &b);
    ASSERT_STR_EQ(b.data, want_tasks_text);
    ix_buf_free(&b);
    tasks_encode(0, 8, &b);
    ASSERT_STR_CONTAINS(b.data, "\nbirth stacks: captured for 1 task in 8\n\nkind http");
    ix_buf_free(&b);
}

static const char want_tasks_json[] =
    "{\"live\":3,\"overdue\":1,\"dropped\":2,\"stack_every\":0,\"kinds\":["
    "{\"kind\":\"http\",\"live\":2,\"overdue\":1,\"started\":10,\"ended\":8,"
    "\"deadline_misses\":3,\"states\":{\"reading\":1,\"none\":1}},"
    "{\"kind\":\"job\",\"live\":1,\"overdue\":0,\"started\":4,\"ended\":3,"
    "\"deadline_misses\":0,\"states\":{\"none\":1}}],\"tasks\":["
    "{\"id\":\"1.1\",\"kind\":\"http\",\"name\":\"/a\",\"state\":\"reading\","
    "\"age_seconds\":3,\"deadline_seconds\":null,\"overdue_seconds\":null,\"overdue\":false,"
    "\"thread\":4242,\"birth_stack\":null},"
    "{\"id\":\"2.3\",\"kind\":\"http\",\"name\":\"/b \\\"q\\\"\",\"state\":\"\","
    "\"age_seconds\":2,\"deadline_seconds\":1.5,\"overdue_seconds\":0.5,\"overdue\":true,"
    "\"thread\":null,\"birth_stack\":null},"
    "{\"id\":\"3.1\",\"kind\":\"job\",\"name\":\"sweep\",\"state\":\"\","
    "\"age_seconds\":1,\"deadline_seconds\":3,\"overdue_seconds\":-2,\"overdue\":false,"
    "\"thread\":null,\"birth_stack\":null}]}";

TEST(tasks_json_is_byte_exact)
{
    ix_buf b;
    tasks_encode(1, 0, &b);
    ASSERT_STR_EQ(b.data, want_tasks_json);
    ix_buf_free(&b);
}

static void index_build(struct ix_index *ix, struct ix_index_endpoint e[2],
                        struct ix_index_process p[2], size_t nprocesses)
{
    memset(ix, 0, sizeof *ix);
    ix->version = "1.2.3";
    e[0] = (struct ix_index_endpoint){"/debug/pprof/heap", "heap <sampled> & \"live\""};
    e[1] = (struct ix_index_endpoint){"/metrics", "Prometheus"};
    ix->endpoints = e;
    ix->nendpoints = 2;
    p[0] = (struct ix_index_process){10, 1, "server -c a<b"};
    p[1] = (struct ix_index_process){11, 10, "server: worker"};
    ix->processes = p;
    ix->nprocesses = nprocesses;
}

static const char want_index_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>/debug/pprof/</title>"
    "</head><body>\n<h1>/debug/pprof/</h1>\n<p>introspect 1.2.3</p>\n"
    "<p><a href=\"/debug/pprof/ui/\">Open the flame-graph UI</a></p>\n"
    "<table>\n"
    "<tr><td><a href=\"/debug/pprof/heap\">/debug/pprof/heap</a></td>"
    "<td>heap &lt;sampled&gt; &amp; &quot;live&quot;</td></tr>\n"
    "<tr><td><a href=\"/metrics\">/metrics</a></td><td>Prometheus</td></tr>\n"
    "</table>\n";

static const char want_index_tree[] =
    "<h2>Processes (2)</h2>\n<p>Profiles of the tree are merged, each sample labelled pid and "
    "process; ?pid=N serves one process.</p>\n<table>\n"
    "<tr><td>10</td><td>1</td><td>server -c a&lt;b</td><td>"
    "<a href=\"/debug/pprof/profile?seconds=10&amp;pid=10\">cpu</a> "
    "<a href=\"/debug/pprof/heap?pid=10\">heap</a> "
    "<a href=\"/debug/pprof/threads?debug=1&amp;pid=10\">threads</a></td></tr>\n"
    "<tr><td>11</td><td>10</td><td>server: worker</td><td>"
    "<a href=\"/debug/pprof/profile?seconds=10&amp;pid=11\">cpu</a> "
    "<a href=\"/debug/pprof/heap?pid=11\">heap</a> "
    "<a href=\"/debug/pprof/threads?debug=1&amp;pid=11\">threads</a></td></tr>\n"
    "</table>\n";

TEST(index_html_is_byte_exact_with_and_without_a_tree)
{
    struct ix_index ix;
    struct ix_index_endpoint e[2];
    struct ix_index_process p[2];
    char want[4096];
    for (size_t np = 1; np <= 2; np++) { /* one process: no tree section */
        index_build(&ix, e, p, np);
        ix_buf b;
        ix_buf_init(&b);
        ix_index_html(&ix, &b);
        snprintf(want, sizeof want, "%s%s</body></html>\n", want_index_html,
                 np > 1 ? want_index_tree : "");
        ASSERT_STR_EQ(b.data, want);
        ix_buf_free(&b);
    }
}

TEST(index_json_is_byte_exact_with_and_without_a_tree)
{
    struct ix_index ix;
    struct ix_index_endpoint e[2];
    struct ix_index_process p[2];
    index_build(&ix, e, p, 1);
    const char *want_head =
        "{\"version\":\"1.2.3\",\"endpoints\":["
        "{\"path\":\"/debug/pprof/heap\",\"description\":\"heap <sampled> & \\\"live\\\"\"},"
        "{\"path\":\"/metrics\",\"description\":\"Prometheus\"}],\"tree\":";
    char want[1024];
    ix_buf b;
    ix_buf_init(&b);
    ix_index_json(&ix, &b);
    snprintf(want, sizeof want, "%snull}", want_head);
    ASSERT_STR_EQ(b.data, want);
    ix_buf_free(&b);
    ix.tree_json = "{\"self\":10}";
    ix.tree_json_len = strlen(ix.tree_json);
    ix_buf_init(&b);
    ix_index_json(&ix, &b);
    snprintf(want, sizeof want, "%s{\"self\":10}}", want_head);
    ASSERT_STR_EQ(b.data, want);
    ix_buf_free(&b);
}

TEST(expvar_layout_is_sorted_and_byte_exact)
{
    struct ix_expvar_doc d = {0};
    ix_buf_puts(ix_expvar_add(&d, "memstats"), "{\"Alloc\":1}");
    ix_buf_puts(ix_expvar_add(&d, "cmdline"), "[\"a\"]");
    ix_buf_puts(ix_expvar_add(&d, "zeta \"q\""), "2");
    ix_expvar_sort(&d);
    ix_buf b;
    ix_buf_init(&b);
    ASSERT_OK(ix_expvar_json(&d, &b));
    ASSERT_STR_EQ(b.data, "{\n\"cmdline\": [\"a\"],\n\"memstats\": {\"Alloc\":1},\n"
                          "\"zeta \\\"q\\\"\": 2\n}\n");
    ix_buf_free(&b);
    /* A value whose writer failed (empty) is reported, the layout kept. */
    ix_expvar_add(&d, "empty");
    ix_buf_init(&b);
    ASSERT_EQ(ix_expvar_json(&d, &b), INTROSPECT_EINVAL);
    ASSERT_STR_CONTAINS(b.data, ",\n\"empty\": \n}\n");
    ix_buf_free(&b);
    ix_expvar_free(&d);
    ASSERT_EQ(d.n, (size_t)0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(tasks_text_is_byte_exact),
    TEST_ENTRY(tasks_json_is_byte_exact),
    TEST_ENTRY(index_html_is_byte_exact_with_and_without_a_tree),
    TEST_ENTRY(index_json_is_byte_exact_with_and_without_a_tree),
    TEST_ENTRY(expvar_layout_is_sorted_and_byte_exact),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
