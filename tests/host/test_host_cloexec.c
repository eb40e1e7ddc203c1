/* Every descriptor the module opens is close-on-exec. After a CPU profile, a
 * thread dump, heap and allocs profiles (symbolized: elfutils opens the
 * separate debug files under /usr/lib/debug) and /debug/vars, the process
 * runs `ls -l /proc/self/fd` through sh: every descriptor ls inherits must be
 * one the host itself held before the module started (0, 1, 2 here) or ls's
 * own. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>

#include "harness.h"
#include "introspect.h"

__attribute__((noinline)) static double spin(long n)
{
    volatile double x = 0;
    for (long i = 0; i < n; i++)
        x += (double)i * 0.5;
    return x;
}

int main(void)
{
    /* The host's own inheritable descriptors before the module starts. */
    int host_fd[1024] = {0};
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd < 1024 && fd != dirfd(d) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            host_fd[fd] = 1;
    }
    closedir(d);

    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 4096;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    static const char *const paths[] = {"/debug/pprof/threads?debug=2", "/debug/pprof/heap",
                                        "/debug/pprof/allocs?debug=1", "/debug/vars", "/metrics",
                                        "/debug/pprof/threadcreate?debug=1"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, paths[i], &r), 0);
        ASSERT_EQ(r.status, 200);
        http_reply_free(&r);
    }
    /* A CPU profile while this thread spins, in a second connection. */
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "curl -fsS -o /dev/null 'http://127.0.0.1:%d/debug/pprof/profile?seconds=1' &", port);
    ASSERT_EQ(system(cmd), 0);
    spin(300000000L);
    usleep(500000);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/symbol?0x1", &r), 0);
    http_reply_free(&r);

    /* While the module runs (its listener, epoll and symbolizer files open). */
    char *out = NULL;
    ASSERT_EQ(run_cmd("ls -l /proc/self/fd", &out), 0);
    fprintf(stderr, "descriptors the exec'd ls inherited:\n%s", out);
    int leaks = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue;
        char *name = arrow;
        while (name > line && name[-1] != ' ')
            name--;
        int fd = atoi(name);
        if (strstr(arrow, "/proc/") && strstr(arrow, "/fd"))
            continue; /* ls's own directory */
        if (fd < 1024 && host_fd[fd])
            continue;
        if (fd <= 2)
            continue; /* run_cmd's pipe as stdout, and the inherited stdin/stderr */
        fprintf(stderr, "leaked into the child: %s\n", line);
        leaks++;
    }
    free(out);
    ASSERT_EQ(leaks, 0);
    ASSERT_EQ(introspect_stop(), 0);
    return 0;
}
