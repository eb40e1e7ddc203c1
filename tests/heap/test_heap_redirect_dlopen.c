/* Redirect mode (another allocator before libintrospect): a library
 * dlopen'ed after the module started has its malloc slots rebound too, so
 * what it leaks is in the heap profile, ranked first with about its bytes.
 * Run with LD_PRELOAD=libtcmalloc.so.4 or libjemalloc.so.2 (tests/CMakeLists.txt),
 * and without (interpose mode, the same check). */
#include <dlfcn.h>
#include <introspect.h>
#include <unistd.h>

#include "heap_test_util.h"
#include "workload.h"

#define RATE 16384
#define LEAK_COUNT 4096
#define LEAK_SIZE 4096

int main(void)
{
    skip_if_sanitized();
    alarm(240);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = RATE;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();

    const char *dir = getenv("IX_BUILD_DIR");
    ASSERT(dir != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/libix_redirect_dlopen_lib.so", dir);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "dlopen: %s\n", dlerror());
    ASSERT(h != NULL);
    void (*dl_leak)(int, size_t) = (void (*)(int, size_t))dlsym(h, "dl_leak");
    ASSERT(dl_leak != NULL);
    churn(20000, 3);
    dl_leak(LEAK_COUNT, LEAK_SIZE);
    churn(20000, 4);

    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    /* Without a preloaded allocator (the plain ctest run) the mode is "interpose". */
    const char *mode = getenv("IX_EXPECT_PROFILER") ? getenv("IX_EXPECT_PROFILER") : "interpose";
    char want[96];
    snprintf(want, sizeof want, "\"HeapProfiler\":\"%s\"", mode);
    ASSERT_STR_CONTAINS(r.body, want);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/heap", &r), 0);
    ASSERT_EQ(r.status, 200);
    char args[512];
    snprintf(args, sizeof args, "-sample_index=inuse_space %s", write_temp("heap", r.body, r.body_len));
    http_reply_free(&r);
    struct top_row rows[200];
    char *raw;
    int n = pprof_top(args, rows, 200, &raw);
    ASSERT_GT(n, 0);
    if (strcmp(rows[0].name, "dl_leak") != 0)
        fprintf(stderr, "%s\n", raw);
    ASSERT_STR_EQ(rows[0].name, "dl_leak");
    /* ~1000 expected samples: sd ~3%, 20% never flakes. */
    double truth = (double)LEAK_COUNT * LEAK_SIZE, err = ((double)rows[0].flat - truth) / truth;
    printf("dl_leak: estimate %lld bytes, truth %.0f, error %+.1f%%\n", rows[0].flat, truth, 100 * err);
    ASSERT(err > -0.2 && err < 0.2);
    free(raw);
    introspect_stop();
    printf("ok\n");
    return 0;
}
