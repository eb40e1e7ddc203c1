/* Thread creation and dump counters in /metrics and the "threads" key of
 * /debug/vars. */
#include "collectors.h"
#include "sampling/threads/create.h"
#include "sampling/threads/dump.h"

void ix_collect_threads(struct ix_mset *set)
{
    uint64_t created, exited, failed, dumps, late;
    ix_thread_create_counters(&created, &exited, &failed);
    ix_thread_dump_counters(&dumps, &late);
    struct {
        const char *name, *help;
        uint64_t v;
    } c[] = {
        {"introspect_threads_created_total", "Threads created through pthread_create", created},
        {"introspect_threads_exited_total", "Threads created through pthread_create that exited",
         exited},
        {"introspect_thread_create_failures_total", "pthread_create calls that failed", failed},
        {"introspect_thread_dumps_total", "Thread dumps taken", dumps},
        {"introspect_thread_dump_late_replies_total",
         "Thread dump signal handlers that ran after their dump gave up on them", late},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        ix_mset_value0(set, ix_mset_family(set, c[i].name, c[i].help, IX_COUNTER), (double)c[i].v);
}

void ix_vars_threads(introspect_json *j)
{
    uint64_t created, exited, failed, dumps, late;
    ix_thread_create_counters(&created, &exited, &failed);
    ix_thread_dump_counters(&dumps, &late);
    introspect_json_object_begin(j);
    introspect_json_key(j, "created");
    ix_json_uint(j, created);
    introspect_json_key(j, "exited");
    ix_json_uint(j, exited);
    introspect_json_key(j, "create_failures");
    ix_json_uint(j, failed);
    introspect_json_key(j, "dumps");
    ix_json_uint(j, dumps);
    introspect_json_key(j, "dump_late_replies");
    ix_json_uint(j, late);
    introspect_json_object_end(j);
}
