/* Run under valgrind (test_heap_valgrind.sh). By default memcheck redirects
 * malloc in every object, ours included: the module must notice
 * ("bypassed") rather than claim an empty profile. With
 * --soname-synonyms=somalloc=nouserintercepts only libc's malloc is
 * replaced: our interposer runs and forwards to memcheck's malloc, so
 * memcheck checks the sampler itself (address set, buckets, bootstrap). */
#include <introspect.h>

#include "heap_test_util.h"
#include "workload.h"

int main(void)
{
    skip_if_sanitized();
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.heap_rate = 4096;
    ASSERT_EQ(introspect_start(&cfg), 0);
    int port = introspect_port();
    churn(2000, 1); /* the rate is noticed within 64 KiB */
    for (int i = 0; i < 8; i++) {
        leak_memory(64, 4096);
        churn(2000, (unsigned)i);
    }
    const char *mode = getenv("IX_EXPECT_PROFILER") ? getenv("IX_EXPECT_PROFILER") : "interpose";
    char want[64];
    snprintf(want, sizeof want, "\"HeapProfiler\":\"%s\"", mode);
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/vars", &r), 0);
    ASSERT_STR_CONTAINS(r.body, want);
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/heap?debug=1", &r), 0);
    ASSERT_EQ(r.status, 200);
    if (strcmp(mode, "interpose") == 0)
        ASSERT_STR_CONTAINS(r.body, "leak_memory");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/allocs", &r), 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    ASSERT_EQ(introspect_stop(), 0);
    leak_release();
    printf("ok\n");
    return 0;
}
