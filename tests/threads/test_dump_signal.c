/* The dump signal belongs to someone else: introspect does not take it,
 * dumps still list every thread from /proc and say why, the host's handler
 * stays in place and is never called. A bad INTROSPECT_DUMP_SIGNAL is
 * refused at start. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <introspect.h>
#include "harness.h"

static volatile sig_atomic_t host_handler_calls;
static atomic_int g_stop;

/* A running thread: blocked threads are walked without any signal, so only
 * a running one shows whether the dump signal is usable. */
static void *spin(void *arg)
{
    (void)arg;
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed))
        x++;
    return NULL;
}

static void host_handler(int sig)
{
    (void)sig;
    host_handler_calls++;
}

TEST(unusable_dump_signals_are_refused)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    setenv("INTROSPECT_DUMP_SIGNAL", "9", 1);
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    setenv("INTROSPECT_DUMP_SIGNAL", "27", 1); /* SIGPROF: the CPU profiler's */
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    unsetenv("INTROSPECT_DUMP_SIGNAL");
}

/* The default dump signal owned by the host: no handler of ours, the host's
 * left alone, the dump still lists threads (from /proc) and says why. */
TEST(host_owned_dump_signal_is_left_alone)
{
    signal(SIGRTMIN + 6, host_handler); /* the default dump signal */
    pthread_t spinner;
    atomic_store(&g_stop, 0);
    ASSERT_EQ(pthread_create(&spinner, NULL, spin, NULL), 0);
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?format=json", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "\"dump_signal\":0");
    ASSERT_STR_CONTAINS(r.body, "is owned by another handler; choose another with "
                                "INTROSPECT_DUMP_SIGNAL");
    ASSERT_STR_CONTAINS(r.body, "\"stack_status\":\"nosignal\"");
    ASSERT_STR_CONTAINS(r.body, "\"stack_status\":\"self\"");
    ASSERT_STR_CONTAINS(r.body, "\"stack_status\":\"walked\""); /* needs no signal */
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=2", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "no dump signal handler installed");
    http_reply_free(&r);
    ASSERT_EQ(host_handler_calls, 0);
    struct sigaction now;
    sigaction(SIGRTMIN + 6, NULL, &now);
    ASSERT(now.sa_handler == host_handler);
    ASSERT_OK(introspect_stop());
}

TEST(another_dump_signal_works)
{
    struct http_reply r;
    char sig[16];
    snprintf(sig, sizeof sig, "%d", SIGRTMIN + 7);
    setenv("INTROSPECT_DUMP_SIGNAL", sig, 1);
    pthread_t spinner;
    atomic_store(&g_stop, 0);
    ASSERT_EQ(pthread_create(&spinner, NULL, spin, NULL), 0);
    int port = start_ephemeral();
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?format=json", &r), 0);
    ASSERT_EQ(r.status, 200);
    char want[32];
    snprintf(want, sizeof want, "\"dump_signal\":%d", SIGRTMIN + 7);
    ASSERT_STR_CONTAINS(r.body, want);
    ASSERT_STR_CONTAINS(r.body, "\"stack_status\":\"ok\""); /* the running thread */
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
    atomic_store(&g_stop, 1);
    pthread_join(spinner, NULL);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(unusable_dump_signals_are_refused),
    TEST_ENTRY(host_owned_dump_signal_is_left_alone),
    TEST_ENTRY(another_dump_signal_works),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}

