#define _GNU_SOURCE
#include "tree_harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

void tree_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tree_count_substr(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

pid_t tree_fork(void (*body)(void))
{
    pid_t p = fork();
    ASSERT_GE(p, 0);
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        body();
        _exit(1); /* body must not return */
    }
    return p;
}

char *tree_wait_for_processes(int port, int n)
{
    for (int i = 0; i < 600; i++) {
        struct http_reply r;
        ASSERT_OK(http_get(port, "/debug/pprof/processes", &r));
        ASSERT_EQ(r.status, 200);
        if (tree_count_substr(r.body, "\"pid\":") >= n)
            return r.body; /* leaks the rest of r: a test process */
        http_reply_free(&r);
        tree_sleep_ms(50);
    }
    ix_test_fail(__FILE__, __LINE__, "the tree never listed %d processes", n);
}

int tree_main(int argc, char **argv, const struct ix_test *tests)
{
    const char *san = getenv("IX_SANITIZE");
    if (san && *san && !(argc == 2 && strcmp(argv[1], "--list") == 0)) {
        printf("skipped: process trees are not run under sanitizers\n");
        return 77;
    }
    return ix_run_tests(argc, argv, tests);
}
