/* The host's signal handlers never run on the module's threads.
 *
 * The main thread blocks SIGUSR1 half the time while a child process sends
 * the process 200 SIGUSR1 (process-directed, like SIGCHLD or SIGHUP from
 * the outside). The kernel delivers a process-directed signal to any thread
 * that does not block it: with module threads that leave it open, the
 * handler would run there while the main thread blocks it. Every module
 * thread exists during the storm (HTTP loop, workers, the connection
 * reaper, memtrace) and requests keep the workers busy. Expected: every
 * handler run is on the main thread. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "introspect.h"

static pid_t g_main_tid;
static atomic_int g_on_main, g_elsewhere;

static void on_usr1(int sig)
{
    (void)sig;
    if ((pid_t)syscall(SYS_gettid) == g_main_tid)
        atomic_fetch_add(&g_on_main, 1);
    else
        atomic_fetch_add(&g_elsewhere, 1);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int main(void)
{
    g_main_tid = (pid_t)syscall(SYS_gettid);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);

    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.memtrace_seconds = 100; /* its thread exists; it never prints in this test */
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    ASSERT(port > 0);
    /* Grow the worker pool: a few requests at once (each a new connection). */
    for (int i = 0; i < 4; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, "/debug/pprof/threads?debug=2", &r), 0);
        ASSERT_EQ(r.status, 200);
        http_reply_free(&r);
    }

    pid_t parent = getpid();
    pid_t child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        for (int i = 0; i < 200; i++) {
            kill(parent, SIGUSR1);
            sleep_us(2000);
        }
        _exit(0);
    }
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    int status = 0, done = 0;
    for (int round = 0; !done; round++) {
        pthread_sigmask(round % 2 ? SIG_UNBLOCK : SIG_BLOCK, &usr1, NULL);
        if (round % 8 == 0) { /* keep a worker and the event loop busy meanwhile */
            struct http_reply r;
            if (http_get(port, "/metrics", &r) == 0)
                http_reply_free(&r);
        }
        sleep_us(3000);
        done = waitpid(child, &status, WNOHANG) == child;
    }
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    sleep_us(20000);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fprintf(stderr, "SIGUSR1 handler runs: %d on the main thread, %d on other threads\n",
            atomic_load(&g_on_main), atomic_load(&g_elsewhere));
    ASSERT(atomic_load(&g_on_main) > 0);
    ASSERT_EQ(atomic_load(&g_elsewhere), 0);
    ASSERT_EQ(introspect_stop(), 0);
    return 0;
}
