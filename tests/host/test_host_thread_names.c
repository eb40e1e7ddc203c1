/* Every thread of the module is named introspect-* in /proc/self/task/<tid>/comm,
 * libmicrohttpd's event loop included, and the host's own threads keep
 * theirs. The process here has one host thread (main) plus one it names;
 * everything else is the module's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "harness.h"
#include "introspect.h"

static void *host_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "host-worker");
    pause();
    return NULL;
}

int main(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.memtrace_seconds = 100;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, host_thread, NULL), 0);
    static const char *const paths[] = {"/metrics", "/debug/pprof/threads?debug=2",
                                        "/debug/pprof/heap", "/debug/vars"};
    for (int i = 0; i < 4; i++) {
        struct http_reply r;
        ASSERT_EQ(http_get(port, paths[i], &r), 0);
        ASSERT_EQ(r.status, 200);
        http_reply_free(&r);
    }
    usleep(100000); /* host_thread has named itself */
    pid_t self = (pid_t)syscall(SYS_gettid);
    DIR *d = opendir("/proc/self/task");
    ASSERT(d);
    int module = 0, host = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        fprintf(stderr, "thread %s: %s\n", e->d_name, comm);
        if (atoi(e->d_name) == self || strcmp(comm, "host-worker") == 0) {
            host++;
            ASSERT(strncmp(comm, "introspect", 10) != 0);
        } else {
            ASSERT_STR_CONTAINS(comm, "introspect");
            ASSERT(strncmp(comm, "introspect", 10) == 0);
            module++;
        }
    }
    closedir(d);
    ASSERT_EQ(host, 2);
    ASSERT(module >= 4); /* event loop, reaper, memtrace, at least one worker */
    /* The event loop by its role. */
    char out_cmd[128];
    snprintf(out_cmd, sizeof out_cmd, "grep -l '^introspect-http$' /proc/%d/task/*/comm", (int)getpid());
    ASSERT_EQ(run_cmd(out_cmd, NULL), 0);
    ASSERT_EQ(introspect_stop(), 0);
    return 0;
}
