/* The demo's tasks: every request is a task (kind "http", named by its
 * path, with a 1 s deadline), and two routes misbehave on purpose so
 * /debug/pprof/tasks and /metrics have something to find:
 *   /leak?n=N      begins N "job" tasks that are never ended (a task leak);
 *   /stuck?ms=N    waits N ms (default 1500) "on a backend", past the
 *                  request's 1 s deadline (an overdue task).
 * Birth stacks are captured for every task (INTROSPECT_TASK_STACKS=1 unless
 * set), so a leaked task shows where it was begun. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <introspect.h>

#include "demo.h"

#define REQUEST_DEADLINE_NS 1000000000LL

void demo_tasks_init(void)
{
    setenv("INTROSPECT_TASK_STACKS", "1", 0); /* before introspect_start reads it */
}

int64_t demo_request_deadline_ns(void) { return REQUEST_DEADLINE_NS; }

/* Sleep the whole time even when a signal (a thread dump) interrupts. */
static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Where the leaked tasks are born: the birth stack points here. */
__attribute__((noinline)) int demo_start_background_jobs(long n)
{
    int started = 0;
    for (long i = 0; i < n; i++) {
        char name[48];
        introspect_task *t;
        snprintf(name, sizeof name, "refresh-cache-%ld", i);
        if (introspect_task_begin("job", name, 500000000LL /* 0.5 s */, &t) == 0) {
            introspect_task_set_state(t, "queued"); /* ...and nobody ever ends it */
            started++;
        }
    }
    return started;
}

static void route_leak(const struct demo_request *req, struct demo_reply *rep)
{
    long n = demo_arg_long(req, "n", 3, 1, 1000);
    demo_reply_text(rep, 200, "leaked %d job tasks (see /debug/pprof/tasks)\n",
                    demo_start_background_jobs(n));
}

__attribute__((noinline)) void demo_call_slow_backend(long ms)
{
    introspect_task_set_state(introspect_request_task(demo_current_request()), "waiting on backend");
    sleep_ms(ms);
}

static void route_stuck(const struct demo_request *req, struct demo_reply *rep)
{
    long ms = demo_arg_long(req, "ms", 1500, 0, 60000);
    demo_call_slow_backend(ms);
    demo_reply_text(rep, 200, "waited %ld ms on the backend (deadline was 1000 ms)\n", ms);
}

const struct demo_route demo_task_routes[] = {
    {"/leak", "begins ?n=N background job tasks that never end (a task leak)", route_leak},
    {"/stuck", "waits ?ms=N (1500) on a slow backend, past its 1 s deadline", route_stuck},
    {NULL, NULL, NULL},
};
