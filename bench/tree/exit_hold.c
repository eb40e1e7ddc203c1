/* How long a tree child's exit(3) is held when it exits during a tree CPU
 * profile (tree/spill.h): the child's request thread stops its capture,
 * symbolizes, encodes and writes what it had before the exit goes on.
 *
 * The root registers an atexit handler *before* introspect_start, so in a
 * forked worker it runs after the module's hold; it prints the time since
 * the worker called exit(). Each round: N workers spin (a distinctive
 * function), a 3 s tree profile starts (curl), 1 s later every worker is
 * told to exit (SIGUSR1); the root then reaps them. Rounds without a
 * profile give the baseline. Usage: bench_tree_exit_hold [WORKERS [ROUNDS]] */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"

static volatile unsigned long g_sink; /* the spinning's result, so it is not optimized out */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double g_exit_t0;
static volatile sig_atomic_t g_go;
static void on_usr1(int sig) { (void)sig; g_go = 1; }

static void after_module(void)
{
    if (g_exit_t0 > 0)
        printf("hold_ms %.1f\n", now_ms() - g_exit_t0);
    fflush(stdout);
}

__attribute__((noinline)) static void exit_hold_worker_spin(void)
{
    while (!g_go)
        for (unsigned long i = 0; i < 100000; i++)
            g_sink += i * i;
    g_exit_t0 = now_ms();
    exit(0);
}

static void wait_listed(int port, int n)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd,
             "curl -fsS http://127.0.0.1:%d/debug/pprof/processes | grep -o '\"pid\":' | wc -l", port);
    for (int i = 0; i < 600; i++) {
        FILE *p = popen(cmd, "r");
        int got = 0;
        if (p) {
            if (fscanf(p, "%d", &got) != 1)
                got = 0;
            pclose(p);
        }
        if (got >= n)
            return;
        usleep(50000);
    }
    fprintf(stderr, "the tree never listed %d processes\n", n);
    exit(1);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3, rounds = argc > 2 ? atoi(argv[2]) : 5;
    atexit(after_module); /* before the module's own: runs after it */
    setenv("INTROSPECT_ADDR", "127.0.0.1:0", 0);
    if (introspect_start(NULL) != 0) {
        fprintf(stderr, "introspect_start: %s\n", introspect_last_error());
        return 1;
    }
    int port = introspect_port();
    signal(SIGUSR1, on_usr1);
    for (int r = 0; r < 2 * rounds; r++) {
        int profiled = r % 2 == 0;
        pid_t kids[64];
        for (int i = 0; i < n; i++)
            if ((kids[i] = fork()) == 0)
                exit_hold_worker_spin();
        wait_listed(port, n + 1);
        char cmd[160];
        if (profiled) {
            snprintf(cmd, sizeof cmd,
                     "curl -fsS -o /dev/null 'http://127.0.0.1:%d/debug/pprof/profile?seconds=3' &",
                     port);
            if (system(cmd) != 0)
                return 1;
        }
        sleep(1);
        printf("round %d %s\n", r, profiled ? "profiled" : "baseline");
        fflush(stdout);
        for (int i = 0; i < n; i++)
            kill(kids[i], SIGUSR1);
        for (int i = 0; i < n; i++)
            waitpid(kids[i], NULL, 0);
        sleep(profiled ? 3 : 0); /* the profile's end */
    }
    introspect_stop();
    return 0;
}
