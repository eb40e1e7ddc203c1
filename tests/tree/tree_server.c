/* A small pre-forking server for the tree's tests and benchmarks: the parent
 * starts introspect (INTROSPECT_ADDR), forks N workers that keep running
 * (argv[1], default 2), each burning a little CPU and allocating, and waits
 * for SIGTERM, then kills and reaps its workers. argv[2] "idle": the workers
 * only sleep (for benchmarks of the tree itself); "busy": the root works too,
 * on a thread of its own (every process has CPU samples: tests/ui/tree.test.js). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"

static volatile unsigned long g_sink; /* the loop's work is kept */

__attribute__((noinline)) void tree_server_work(void)
{
    for (;;) {
        for (unsigned long i = 0; i < 200000; i++)
            g_sink += i * i;
        char *p = malloc(4096);
        if (p)
            memset(p, 1, 4096);
        free(p);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static void *root_work(void *arg)
{
    (void)arg;
    tree_server_work();
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    int idle = argc > 2 && strcmp(argv[2], "idle") == 0;
    int busy = argc > 2 && strcmp(argv[2], "busy") == 0;
    if (introspect_start(NULL) != 0) {
        fprintf(stderr, "tree_server: introspect_start: %s\n", introspect_last_error());
        return 1;
    }
    printf("port %d\n", introspect_port());
    fflush(stdout);
    pid_t *kids = calloc((size_t)(n > 0 ? n : 1), sizeof *kids);
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            while (idle)
                pause();
            tree_server_work();
        }
    }
    /* Taken with sigwait by main: a handler may run on any thread that does
     * not block the signal (root_work's), leaving main asleep in pause(). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    pthread_t t;
    if (busy && pthread_create(&t, NULL, root_work, NULL) == 0)
        pthread_detach(t);
    int sig;
    sigwait(&stop, &sig);
    for (int i = 0; i < n; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        if (kids[i] > 0)
            waitpid(kids[i], NULL, 0);
    introspect_stop();
    return 0;
}
