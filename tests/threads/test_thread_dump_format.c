/* The thread dump's encoders (format/thread_dump.h) on a dump built by hand:
 * every line kind of the debug=2 text and every field of the JSON, byte for
 * byte. The model is plain data, so no thread, signal or registry is needed;
 * stacks are empty so no address depends on the build. */
#include "harness.h"

#include <stddef.h>
#include <string.h>

#include "format/thread_dump.h"
#include "model/profile.h"
#include "sampling/threads/profile.h"
#include "stack/unwind.h"
#include "util/buf.h"

static void proc(struct ix_thread_entry *e, pid_t tid, const char *name, char state)
{
    memset(e, 0, sizeof *e);
    e->proc.tid = tid;
    e->proc.exists = 1;
    snprintf(e->proc.name, sizeof e->proc.name, "%s", name);
    e->proc.state = state;
    e->proc.syscall_readable = 1;
    e->proc.syscall_nr = -1;
    e->state_for_s = -1;
}

/* Four threads: the dumping one (running); one walked, blocked outside a
 * system call, running five tasks; one that blocks the dump signal in a call
 * with no name; one whose syscall file was unreadable. */
static void build(struct ix_thread_entry t[4], struct ix_thread_dump *d,
                  struct ix_task_row rows[6], struct ix_tasks_by_thread *bt)
{
    proc(&t[0], 100, "main", 'R');
    t[0].proc.syscall_running = 1;
    t[0].proc.cpu_user_s = 1.25;
    t[0].status = IX_STACK_SELF;
    proc(&t[1], 101, "worker", 'S');
    snprintf(t[1].proc.wchan, sizeof t[1].proc.wchan, "do_epoll_wait");
    t[1].status = IX_STACK_WALKED;
    t[1].walk_end = IX_WALK_ROOT;
    t[1].state_for_s = 2.5;
    proc(&t[2], 102, "blocker", 'S');
    t[2].proc.syscall_nr = 99999;
    t[2].proc.syscall_args[0] = 0x10;
    t[2].proc.syscall_args[1] = 0;
    t[2].proc.syscall_args[2] = 0xff;
    t[2].status = IX_STACK_BLOCKED;
    proc(&t[3], 103, "gone", 'D');
    t[3].proc.syscall_readable = 0;
    snprintf(t[3].proc.syscall_err, sizeof t[3].proc.syscall_err, "permission denied");
    t[3].status = IX_STACK_RACED;
    memset(d, 0, sizeof *d);
    d->threads = t;
    d->n = 4;
    d->total = 5;
    d->signal = 40;
    d->timeout_ms = 200;
    d->time_ns = 1000000000LL;
    d->duration_ns = 1500000;
    /* Tasks: five on 101 (the fifth is summarised), one overdue on 102. */
    for (int i = 0; i < 6; i++) {
        rows[i] = (struct ix_task_row){(uint32_t)i, 1, "http", i ? "" : "reading",
                                       i < 5 ? 101 : 102, 0, 0, ""};
        snprintf(rows[i].name, sizeof rows[i].name, "/r%d", i);
    }
    rows[5].deadline_ns = 1000000000LL;
    bt->rows = rows;
    bt->n = 6;
    bt->now_ns = 3000000000LL;
}

static void encode(int json, ix_buf *b)
{
    struct ix_thread_entry t[4];
    struct ix_thread_dump d;
    struct ix_task_row rows[6];
    struct ix_tasks_by_thread bt;
    build(t, &d, rows, &bt);
    struct ix_profile p;
    struct ix_resolved r;
    ASSERT_OK(ix_threads_profile_per_thread(&d, &p));
    ASSERT_OK(ix_profile_resolve(&p, &r));
    ix_buf_init(b);
    if (json)
        ix_thread_dump_json(&d, &r, &bt, b);
    else
        ix_thread_dump_text(&d, &r, &bt, b);
    ASSERT(!b->oom);
    ix_resolved_free(&r);
    ix_profile_free(&p);
}

static const char want_text[] =
    "threads: 5, captured in 1.5 ms (dump signal 40, timeout 200 ms)\n"
    "\n"
    "thread 100 \"main\" [running]:\n"
    "#\tstate: R (running), for an unknown time (not seen in this state by the previous dump)\n"
    "#\twchan: -\n"
    "#\tsyscall: none (running)\n"
    "#\tcpu: user 1.250s, system 0.000s\n"
    "#\tstack: this is the thread taking the dump\n"
    "\n"
    "thread 101 \"worker\" [sleeping, >= 2.500s]:\n"
    "#\tstate: S (sleeping), for at least 2.500s (unchanged since an earlier dump)\n"
    "#\twchan: do_epoll_wait\n"
    "#\tsyscall: none (blocked outside a system call)\n"
    "#\tcpu: user 0.000s, system 0.000s\n"
    "#\ttask: 0.1 http \"/r0\" age 3.000s state \"reading\"\n"
    "#\ttask: 1.1 http \"/r1\" age 3.000s state \"\"\n"
    "#\ttask: 2.1 http \"/r2\" age 3.000s state \"\"\n"
    "#\ttask: 3.1 http \"/r3\" age 3.000s state \"\"\n"
    "#\ttask: ... and 1 more\n"
    "#\tstack: walked without a signal (blocked); reaches its root\n"
    "\n"
    "thread 102 \"blocker\" [sleeping]:\n"
    "#\tstate: S (sleeping), for an unknown time (not seen in this state by the previous dump)\n"
    "#\twchan: -\n"
    "#\tsyscall: syscall_99999(0x10, 0, 0xff, ...)\n"
    "#\tcpu: user 0.000s, system 0.000s\n"
    "#\ttask: 5.1 http \"/r5\" age 3.000s state \"\" OVERDUE\n"
    "#\tstack: none: blocks the dump signal\n"
    "\n"
    "thread 103 \"gone\" [disk wait]:\n"
    "#\tstate: D (disk wait), for an unknown time (not seen in this state by the previous dump)\n"
    "#\twchan: -\n"
    "#\tsyscall: permission denied\n"
    "#\tcpu: user 0.000s, system 0.000s\n"
    "#\tstack: none: raced: it woke up during every walk\n"
    "\n";

TEST(debug2_text_is_byte_exact)
{
    ix_buf b;
    encode(0, &b);
    ASSERT_STR_EQ(b.data, want_text);
    ix_buf_free(&b);
}

static const char want_json[] =
    "{\"time_nanos\":1000000000,\"threads_total\":5,\"dump_signal\":40,\"signal_problem\":null,"
    "\"timeout_ms\":200,\"capture_seconds\":0.0015,\"threads\":["
    "{\"tid\":100,\"name\":\"main\",\"state\":\"R\",\"state_name\":\"running\","
    "\"state_for_seconds\":null,\"wchan\":null,\"syscall\":{\"readable\":true,\"running\":true},"
    "\"cpu_user_seconds\":1.25,\"cpu_system_seconds\":0,\"tasks\":[],\"stack_status\":\"self\","
    "\"stack_reason\":\"ok (the dumping thread)\",\"stack_walk_end\":null,\"frames\":[]},"
    "{\"tid\":101,\"name\":\"worker\",\"state\":\"S\",\"state_name\":\"sleeping\","
    "\"state_for_seconds\":2.5,\"wchan\":\"do_epoll_wait\",\"syscall\":{\"readable\":true,"
    "\"nr\":-1,\"name\":null,\"pc\":\"0\"},\"cpu_user_seconds\":0,\"cpu_system_seconds\":0,"
    "\"tasks\":[{\"id\":\"0.1\",\"kind\":\"http\",\"name\":\"/r0\",\"state\":\"reading\","
    "\"age_seconds\":3,\"overdue\":false},{\"id\":\"1.1\",\"kind\":\"http\",\"name\":\"/r1\","
    "\"state\":\"\",\"age_seconds\":3,\"overdue\":false},{\"id\":\"2.1\",\"kind\":\"http\","
    "\"name\":\"/r2\",\"state\":\"\",\"age_seconds\":3,\"overdue\":false},{\"id\":\"3.1\","
    "\"kind\":\"http\",\"name\":\"/r3\",\"state\":\"\",\"age_seconds\":3,\"overdue\":false},"
    "{\"id\":\"4.1\",\"kind\":\"http\",\"name\":\"/r4\",\"state\":\"\",\"age_seconds\":3,"
    "\"overdue\":false}],\"stack_status\":\"walked\",\"stack_reason\":\"ok (blocked: walked "
    "without a signal)\",\"stack_walk_end\":\"reaches its root\",\"frames\":[]},"
    "{\"tid\":102,\"name\":\"blocker\",\"state\":\"S\",\"state_name\":\"sleeping\","
    "\"state_for_seconds\":null,\"wchan\":null,\"syscall\":{\"readable\":true,\"nr\":99999,"
    "\"name\":null,\"args\":[\"0x10\",\"0\",\"0xff\",\"0\",\"0\",\"0\"],\"pc\":\"0\"},"
    "\"cpu_user_seconds\":0,\"cpu_system_seconds\":0,\"tasks\":[{\"id\":\"5.1\",\"kind\":\"http\","
    "\"name\":\"/r5\",\"state\":\"\",\"age_seconds\":3,\"overdue\":true}],"
    "\"stack_status\":\"blocked\",\"stack_reason\":\"blocks the dump signal\","
    "\"stack_walk_end\":null,\"frames\":[]},"
    "{\"tid\":103,\"name\":\"gone\",\"state\":\"D\",\"state_name\":\"disk wait\","
    "\"state_for_seconds\":null,\"wchan\":null,\"syscall\":{\"readable\":false,"
    "\"error\":\"permission denied\"},\"cpu_user_seconds\":0,\"cpu_system_seconds\":0,"
    "\"tasks\":[],\"stack_status\":\"raced\",\"stack_reason\":\"raced: it woke up during every "
    "walk\",\"stack_walk_end\":null,\"frames\":[]}]}";

TEST(json_is_byte_exact)
{
    ix_buf b;
    encode(1, &b);
    ASSERT_STR_EQ(b.data, want_json);
    ix_buf_free(&b);
}

static const struct ix_test tests[] = {TEST_ENTRY(debug2_text_is_byte_exact),
                                       TEST_ENTRY(json_is_byte_exact), TEST_LIST_END};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
