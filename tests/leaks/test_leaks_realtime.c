/* The leak sentinel in real time: INTROSPECT_HISTORY_INTERVAL=1, a thread
 * that leaks 1 KiB per request (about 1000 requests/s) amid churn, and
 * /debug/pprof/leaks polled once a second until the leaking function is
 * ranked first (expected after ~15 s: 12 snapshots are needed; the poll
 * gives up after 90). Also: the module thread is named introspect-hist and
 * blocks every signal; its own allocations never enter the heap profile
 * (rate 64 KiB here, so a megabyte of them would show as ~16 samples); the
 * budget is kept; history off gives the documented errors. */
#define _GNU_SOURCE
#include <dirent.h>
#include <introspect.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "heap/heap_test_util.h"

static atomic_int g_stop;
static void **g_leaked;
static size_t g_nleaked, g_cap;

__attribute__((noinline)) void *leak_realtime(size_t n)
{
    char *p = malloc(n);
    memset(p, 5, n);
    return p;
}

__attribute__((noinline)) void *churn_realtime(size_t n)
{
    char *p = malloc(n);
    p[0] = 1;
    return p;
}

static void *server(void *arg)
{
    (void)arg;
    struct timespec ms = {0, 1000000};
    while (!atomic_load(&g_stop)) {
        void *tmp[16];
        for (int i = 0; i < 16; i++)
            tmp[i] = churn_realtime(64 + (size_t)(i * 251) % 4000);
        if (g_nleaked == g_cap) {
            g_cap = g_cap ? 2 * g_cap : 4096;
            g_leaked = realloc(g_leaked, g_cap * sizeof *g_leaked);
        }
        g_leaked[g_nleaked++] = leak_realtime(1024);
        for (int i = 0; i < 16; i++)
            free(tmp[i]);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* The tid of the thread named name, or 0. */
static int find_thread(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int tid = 0;
    while (d && (e = readdir(d))) {
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && !strncmp(comm, name, strlen(name)))
            tid = atoi(e->d_name);
        fclose(f);
    }
    if (d)
        closedir(d);
    return tid;
}

static void check_thread(void)
{
    /* The thread names itself as it starts: give it a moment (bounded). */
    int tid = 0;
    for (int i = 0; i < 200 && !(tid = find_thread("introspect-hist")); i++)
        usleep(10000);
    ASSERT(tid > 0);
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    ASSERT(f);
    unsigned long long blk = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "SigBlk:", 7))
            blk = strtoull(line + 7, NULL, 16);
    fclose(f);
    /* Every asynchronous signal: not SIGKILL, SIGSTOP, glibc's two internal
     * ones (32, 33), nor the synchronous faults module threads leave open
     * (docs/signals.md), nor the dump signal the module owns. */
    for (int s = 1; s <= 64; s++) {
        if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33 || s == SIGSEGV || s == SIGBUS ||
            s == SIGILL || s == SIGFPE || s == SIGTRAP || s == SIGSYS || s == SIGRTMIN + 6)
            continue;
        if (!((blk >> (s - 1)) & 1))
            fprintf(stderr, "signal %d not blocked (SigBlk %llx)\n", s, blk);
        ASSERT((blk >> (s - 1)) & 1);
    }
}

static int leak_first(int port)
{
    struct http_reply r;
    if (http_get(port, "/debug/pprof/leaks?format=json", &r) || r.status != 200) {
        http_reply_free(&r);
        return 0;
    }
    /* the first suspect's first frame */
    char *s = strstr(r.body, "\"rank\":1,");
    int ok = s && strstr(s, "\"kind\":\"heap\"") &&
             strstr(s, "\"function\":\"") &&
             !strncmp(strstr(s, "\"function\":\"") + 12, "leak_realtime\"", 14);
    http_reply_free(&r);
    return ok;
}

int main(void)
{
    skip_if_sanitized();
    setenv("INTROSPECT_HISTORY_INTERVAL", "1", 1);
    setenv("INTROSPECT_HISTORY_BUDGET", "1048576", 1);
    setenv("INTROSPECT_LEAK_REPORT", "1", 1);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 65536;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    check_thread();
    pthread_t th;
    pthread_create(&th, NULL, server, NULL);
    int found = 0, polls = 0;
    for (; polls < 90 && !found; polls++) {
        sleep(1);
        found = leak_first(port);
    }
    atomic_store(&g_stop, 1);
    pthread_join(th, NULL);
    printf("leak_realtime ranked first after %d one-second polls (%zu KiB leaked)\n", polls,
           g_nleaked);
    ASSERT(found);
    struct http_reply r;
    ASSERT(http_get(port, "/debug/pprof/leaks", &r) == 0);
    printf("%.1500s\n", r.body);
    http_reply_free(&r);
    /* the module's own allocations are not in the heap profile */
    ASSERT(http_get(port, "/debug/pprof/heap?format=folded&sample_index=alloc_space", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "leak_realtime");
    ASSERT(!strstr(r.body, "history_main") && !strstr(r.body, "ix_history_snapshot_now") &&
           !strstr(r.body, "ix_leaks_"));
    http_reply_free(&r);
    ASSERT(http_get(port, "/debug/pprof/heap?base=-5s", &r) == 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    ASSERT(http_get(port, "/metrics", &r) == 0);
    const char *m = strstr(r.body, "\nintrospect_leak_history_bytes ");
    ASSERT(m);
    double used = atof(m + strlen("\nintrospect_leak_history_bytes "));
    printf("history: %.0f bytes of the 1 MiB budget\n", used);
    ASSERT(used > 0 && used <= 1048576);
    ASSERT_STR_CONTAINS(r.body, "introspect_leak_suspects{kind=\"heap\"} ");
    http_reply_free(&r);
    ASSERT_EQ(introspect_stop(), 0);

    /* history off: the endpoints say so in one line */
    setenv("INTROSPECT_HISTORY_INTERVAL", "0", 1);
    ASSERT_EQ(introspect_start(&cfg), 0);
    port = introspect_port();
    ASSERT(find_thread("introspect-hist") == 0);
    ASSERT(http_get(port, "/debug/pprof/leaks", &r) == 0);
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_CONTAINS(r.body, "leak history is off");
    http_reply_free(&r);
    ASSERT(http_get(port, "/debug/pprof/heap?base=-1m", &r) == 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "base needs the leak history");
    http_reply_free(&r);
    ASSERT_EQ(introspect_stop(), 0);
    setenv("INTROSPECT_HISTORY_INTERVAL", "abc", 1);
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    ASSERT_STR_CONTAINS(introspect_last_error(), "INTROSPECT_HISTORY_INTERVAL");
    for (size_t i = 0; i < g_nleaked; i++)
        free(g_leaked[i]);
    free(g_leaked);
    printf("ok\n");
    return 0;
}
