/* start/stop/start, config errors, env overrides, the threading model. */
#include <arpa/inet.h>
#include <dirent.h>
#include <introspect.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

TEST(bad_config_is_refused_with_its_code)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "not-an-address";
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EADDR);
    cfg.addr = "127.0.0.1:99999";
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EADDR);
    cfg.addr = "0.0.0.0:0"; /* all interfaces without a token: refused */
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_ETOKEN);
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.max_connections = 0;
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    cfg.cpu_engine = "magic";
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    ASSERT_EQ(introspect_stop(), INTROSPECT_ENOTSTARTED);
    ASSERT_EQ(introspect_port(), INTROSPECT_ENOTSTARTED);
}

TEST(port_in_use_is_eaddrinuse)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = addr;
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EADDRINUSE);
    close(fd);
}

TEST(restart_leaks_no_fds)
{
    int before = count_fds();
    for (int i = 0; i < 5; i++) {
        int port = start_ephemeral();
        ASSERT_EQ(introspect_start(NULL), INTROSPECT_EALREADY);
        struct http_reply r;
        ASSERT_EQ(http_get(port, "/debug/pprof/cmdline", &r), 0);
        ASSERT_EQ(r.status, 200);
        http_reply_free(&r);
        ASSERT_EQ(introspect_stop(), 0);
        ASSERT(http_get(port, "/debug/pprof/cmdline", &r) != 0); /* nobody listens */
    }
    ASSERT_EQ(count_fds(), before);
}

TEST(environment_overrides_config)
{
    setenv("INTROSPECT_ADDR", "127.0.0.1:0", 1);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:1"; /* overridden by the environment */
    ASSERT_EQ(introspect_start(&cfg), 0);
    ASSERT_GT(introspect_port(), 1);
    ASSERT_OK(introspect_stop());
    setenv("INTROSPECT_MAX_CONNECTIONS", "lots", 1);
    ASSERT_EQ(introspect_start(&cfg), INTROSPECT_EINVAL);
    unsetenv("INTROSPECT_MAX_CONNECTIONS");
    unsetenv("INTROSPECT_ADDR");
}

/* A slow handler (a /debug/vars callback that sleeps) must not stall others. */
static atomic_int slow_started, slow_done;
static int slow_var(introspect_json *j, void *arg)
{
    (void)arg;
    atomic_store(&slow_started, 1);
    struct timespec ts = {2, 0};
    nanosleep(&ts, NULL);
    introspect_json_int(j, 1);
    atomic_store(&slow_done, 1);
    return 0;
}

static int slow_status; /* the slow request's HTTP status, -1 if it failed */
static void *fetch_vars(void *arg)
{
    struct http_reply r;
    slow_status = http_get(*(int *)arg, "/debug/vars", &r) == 0 ? r.status : -1;
    http_reply_free(&r);
    return NULL;
}

TEST(slow_handler_does_not_block_others)
{
    static int port;
    port = start_ephemeral();
    introspect_var *v;
    ASSERT_OK(introspect_var_func("slow_value", slow_var, NULL, &v));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fetch_vars, &port), 0);
    while (!atomic_load(&slow_started)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(atomic_load(&slow_done), 0); /* answered while the slow one still runs */
    http_reply_free(&r);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(slow_status, 200); /* and the slow one was answered too */
    ASSERT_EQ(atomic_load(&slow_done), 1);
    ASSERT_OK(introspect_stop());
}

TEST(content_negotiation_and_head)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/?format=json", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "application/json");
    ASSERT_STR_CONTAINS(r.body, "\"path\":\"/metrics\"");
    http_reply_free(&r);
    ASSERT_EQ(http_get(port, "/debug/pprof/?format=xml", &r), 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);

    ASSERT_EQ(http_get(port, "/debug/pprof/cmdline", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "test_lifecycle");
    /* Go's form: the arguments separated by NULs, as /proc/self/cmdline
     * without its final NUL (the runner passes this behaviour's name). */
    char want[4096];
    FILE *f = fopen("/proc/self/cmdline", "rb");
    ASSERT(f);
    size_t n = fread(want, 1, sizeof want, f);
    fclose(f);
    ASSERT_GT(n, 0);
    ASSERT_EQ(r.body_len, n - 1);
    ASSERT_EQ(memcmp(r.body, want, n - 1), 0);
    http_reply_free(&r);

    ASSERT(http_request(port, "GET", "/metrics",
                        "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n",
                        NULL, 0, &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(http_header(&r, "Content-Type"),
                  "application/openmetrics-text; version=1.0.0; charset=utf-8");
    ASSERT_GT(r.body_len, 6);
    ASSERT_STR_EQ(r.body + r.body_len - 6, "# EOF\n");
    ASSERT_STR_CONTAINS(r.body, "# TYPE process_cpu_seconds counter\n");
    http_reply_free(&r);

    ASSERT_EQ(http_get(port, "/metrics", &r), 0);
    ASSERT_STR_EQ(http_header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    ASSERT(!strstr(r.body, "# EOF"));
    http_reply_free(&r);

    ASSERT_EQ(http_request(port, "HEAD", "/debug/vars", NULL, NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body_len, 0);
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(bad_config_is_refused_with_its_code),
    TEST_ENTRY(port_in_use_is_eaddrinuse),
    TEST_ENTRY(restart_leaks_no_fds),
    TEST_ENTRY(environment_overrides_config),
    TEST_ENTRY(slow_handler_does_not_block_others),
    TEST_ENTRY(content_negotiation_and_head),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
