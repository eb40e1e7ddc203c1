/* No request changes what the host's threads see. ?interrupt=1 (signal
 * threads blocked in calls a signal ends with EINTR) is refused with a
 * one-line 400 unless INTROSPECT_ALLOW_INTERRUPT=1, and thread dumps of
 * every kind leave a host thread's poll() (never restarted after a signal:
 * signal(7)) running to its timeout: EINTR only if the dump signalled it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "harness.h"
#include "introspect.h"

static atomic_int g_eintr, g_polls, g_stop;

static void *poller(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "host-poller");
    while (!atomic_load(&g_stop)) {
        if (poll(NULL, 0, 300) < 0 && errno == EINTR)
            atomic_fetch_add(&g_eintr, 1);
        atomic_fetch_add(&g_polls, 1);
    }
    return NULL;
}

int main(void)
{
    unsetenv("INTROSPECT_ALLOW_INTERRUPT");
    int port = start_ephemeral();
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, poller, NULL), 0);
    usleep(100000);
    struct http_reply r;
    static const char *const refused[] = {"/debug/pprof/threads?interrupt=1",
                                          "/debug/pprof/goroutine?debug=2&interrupt=1",
                                          "/debug/pprof/threads?format=json&interrupt=1"};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(http_get(port, refused[i], &r), 0);
        ASSERT_EQ(r.status, 400);
        ASSERT_STR_CONTAINS(r.body, "INTROSPECT_ALLOW_INTERRUPT=1");
        ASSERT(strchr(r.body, '\n') == NULL || strchr(r.body, '\n') == r.body + strlen(r.body) - 1);
        ASSERT_STR_CONTAINS(http_header(&r, "x-go-pprof"), "1");
        http_reply_free(&r);
    }
    /* Every kind of dump, read as JSON so that each one says how the poller
     * was seen: walked without a signal (blocked), or signalled (seen
     * running, in user code, where no call can be interrupted). */
    static const char *const dumps[] = {"/debug/pprof/threads?format=json",
                                        "/debug/pprof/goroutine?format=json",
                                        "/debug/pprof/threads?format=json&interrupt=0",
                                        "/debug/pprof/threads?format=json&timeout_ms=500"};
    int walked = 0, signalled = 0;
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 4; i++) {
            ASSERT_EQ(http_get(port, dumps[i], &r), 0);
            ASSERT_EQ(r.status, 200);
            const char *t = strstr(r.body, "\"name\":\"host-poller\"");
            ASSERT(t != NULL);
            const char *st = strstr(t, "\"stack_status\":\"");
            ASSERT(st != NULL);
            st += strlen("\"stack_status\":\"");
            walked += strncmp(st, "walked\"", 7) == 0;
            signalled += strncmp(st, "ok\"", 3) == 0 || strncmp(st, "timeout\"", 8) == 0;
            http_reply_free(&r);
        }
    atomic_store(&g_stop, 1);
    pthread_join(t, NULL);
    fprintf(stderr, "%d polls through 40 thread dumps, %d ended with EINTR; of 40 JSON dumps, %d "
            "walked the poller without a signal and %d signalled it (seen running)\n",
            atomic_load(&g_polls), atomic_load(&g_eintr), walked, signalled);
    /* A thread blocked in poll() is walked, never signalled; it spends all
     * but microseconds of each 300 ms there. */
    ASSERT(walked >= 20);
#if !defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer defers a signal that arrives in user code to the next
     * intercepted call, so a dump signal sent between two polls ends the next
     * poll with EINTR there (docs/threads.md). Without it, a poll can end
     * with EINTR only in a dump that signalled the poller: one seen running
     * that entered poll() in the microseconds between the dump's last look
     * at its syscall file and the signal. */
    ASSERT(atomic_load(&g_eintr) <= signalled);
#endif
    ASSERT_EQ(introspect_stop(), 0);

    /* Allowed explicitly: the parameter is accepted. */
    setenv("INTROSPECT_ALLOW_INTERRUPT", "1", 1);
    port = start_ephemeral();
    ASSERT_EQ(http_get(port, "/debug/pprof/threads?interrupt=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    ASSERT_EQ(introspect_stop(), 0);
    /* A value other than 0 or 1 fails the start with the reason. */
    setenv("INTROSPECT_ALLOW_INTERRUPT", "yes", 1);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    ASSERT_STR_CONTAINS(introspect_last_error(), "INTROSPECT_ALLOW_INTERRUPT");
    return 0;
}
