/* A C program with a known heap and known threads, running the module on an
 * ephemeral port, for test_memstats_go and test_go_formats: it prints the port, then serves
 * until stdin closes. Var "mallinfo2" is glibc's own figures, read when
 * /debug/vars is rendered (just after memstats); var "workload" what the
 * program allocated and the stacks it gave its threads. */
#define _GNU_SOURCE
#include <introspect.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSMALL 40000
#define NMID 4000
#define NBIG 24
#define NTHREADS 4
#define THREAD_STACK (256 * 1024)

static void *small[NSMALL], *mid[NMID], *big[NBIG];
static uint64_t w_mallocs, w_frees, w_bytes, w_live;
static int g_pipe[2];

static void *keep(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    memset(p, 1, n);
    w_mallocs++;
    w_bytes += n;
    return p;
}

static int put_mallinfo2(introspect_json *j, void *arg)
{
    (void)arg;
    struct mallinfo2 m = mallinfo2();
    introspect_json_object_begin(j);
    introspect_json_key(j, "uordblks");
    introspect_json_int(j, (int64_t)m.uordblks);
    introspect_json_key(j, "hblkhd");
    introspect_json_int(j, (int64_t)m.hblkhd);
    introspect_json_key(j, "arena");
    introspect_json_int(j, (int64_t)m.arena);
    introspect_json_key(j, "fordblks");
    introspect_json_int(j, (int64_t)m.fordblks);
    introspect_json_object_end(j);
    return 0;
}

static int put_workload(introspect_json *j, void *arg)
{
    (void)arg;
    introspect_json_object_begin(j);
    introspect_json_key(j, "mallocs");
    introspect_json_int(j, (int64_t)w_mallocs);
    introspect_json_key(j, "frees");
    introspect_json_int(j, (int64_t)w_frees);
    introspect_json_key(j, "bytes");
    introspect_json_int(j, (int64_t)w_bytes);
    introspect_json_key(j, "live");
    introspect_json_int(j, (int64_t)w_live);
    introspect_json_key(j, "threads");
    introspect_json_int(j, NTHREADS);
    introspect_json_key(j, "thread_stack_bytes");
    introspect_json_int(j, THREAD_STACK);
    introspect_json_object_end(j);
    return 0;
}

/* Threads that never allocate and block in read(): found by their stack pointer. */
static void *idle_thread(void *arg)
{
    (void)arg;
    char c;
    while (read(g_pipe[0], &c, 1) < 0)
        ;
    return NULL;
}

int main(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 64 * 1024;
    if (introspect_start(&cfg) != 0) {
        fprintf(stderr, "start: %s\n", introspect_last_error());
        return 1;
    }
    for (int i = 0; i < NSMALL; i++)
        small[i] = keep(32 + (size_t)(i % 200));
    for (int i = 0; i < NMID; i++)
        mid[i] = keep(4096 + (size_t)i);
    for (int i = 0; i < NBIG; i++) /* above glibc's mmap threshold: hblkhd */
        big[i] = keep(1024 * 1024 + (size_t)i * 4096);
    for (int i = 0; i < NSMALL; i += 2) {
        free(small[i]);
        w_frees++;
    }
    w_live = w_mallocs - w_frees;

    if (pipe(g_pipe))
        return 1;
    pthread_t th[NTHREADS];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, THREAD_STACK);
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], &a, idle_thread, NULL))
            return 1;
    pthread_attr_destroy(&a);

    introspect_var *v;
    introspect_var_func("mallinfo2", put_mallinfo2, NULL, &v);
    introspect_var_func("workload", put_workload, NULL, &v);
    printf("%d\n", introspect_port());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    close(g_pipe[1]);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    introspect_stop();
    return 0;
}
