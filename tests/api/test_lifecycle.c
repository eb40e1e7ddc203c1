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

static void test_errors(void)
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
    ASSERT(strstr(introspect_strerror(INTROSPECT_EADDRINUSE), "in use"));
}

static void test_port_in_use(void)
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

static void test_restart_and_fds(void)
{
    int before = count_fds();
    for (int i = 0; i < 5; i++) {
        int port = start_ephemeral();
        ASSERT_EQ(introspect_start(NULL), INTROSPECT_EALREADY);
        struct http_reply r;
        ASSERT(http_get(port, "/debug/pprof/cmdline", &r) == 0);
        ASSERT_EQ(r.status, 200);
        http_reply_free(&r);
        ASSERT_EQ(introspect_stop(), 0);
        ASSERT(http_get(port, "/debug/pprof/cmdline", &r) != 0); /* nobody listens */
    }
    ASSERT_EQ(count_fds(), before);
}

static void test_env_override(void)
{
    setenv("INTROSPECT_ADDR", "127.0.0.1:0", 1);
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:1"; /* overridden by the environment */
    ASSERT_EQ(introspect_start(&cfg), 0);
    ASSERT(introspect_port() > 1);
    introspect_stop();
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

static void *fetch_vars(void *arg)
{
    struct http_reply r;
    ASSERT(http_get(*(int *)arg, "/debug/vars", &r) == 0);
    ASSERT_EQ(r.status, 200);
    http_reply_free(&r);
    return NULL;
}

static void test_slow_does_not_block_fast(void)
{
    static int port;
    port = start_ephemeral();
    introspect_var *v;
    ASSERT(introspect_var_func("slow_value", slow_var, NULL, &v) == 0);
    pthread_t t;
    pthread_create(&t, NULL, fetch_vars, &port);
    while (!atomic_load(&slow_started)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(atomic_load(&slow_done), 0); /* answered while the slow one still runs */
    http_reply_free(&r);
    pthread_join(t, NULL);
    introspect_stop();
}

static void test_http_details(void)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT(http_get(port, "/debug/pprof/?format=json", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "application/json");
    ASSERT_STR_CONTAINS(r.body, "\"path\":\"/metrics\"");
    http_reply_free(&r);
    ASSERT(http_get(port, "/debug/pprof/?format=xml", &r) == 0);
    ASSERT_EQ(r.status, 400);
    http_reply_free(&r);

    ASSERT(http_get(port, "/debug/pprof/cmdline", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "test_lifecycle");
    ASSERT_EQ(r.body_len, strlen(r.body)); /* one argument: no NUL inside */
    http_reply_free(&r);

    ASSERT(http_request(port, "GET", "/metrics",
                        "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n",
                        NULL, 0, &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT(strcmp(http_header(&r, "Content-Type"),
                  "application/openmetrics-text; version=1.0.0; charset=utf-8") == 0);
    ASSERT(r.body_len > 6 && strcmp(r.body + r.body_len - 6, "# EOF\n") == 0);
    ASSERT_STR_CONTAINS(r.body, "# TYPE process_cpu_seconds counter\n");
    http_reply_free(&r);

    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT(strcmp(http_header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8") == 0);
    ASSERT(!strstr(r.body, "# EOF"));
    http_reply_free(&r);

    ASSERT(http_request(port, "HEAD", "/debug/vars", NULL, NULL, 0, &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body_len, 0);
    http_reply_free(&r);
    introspect_stop();
}

int main(void)
{
    test_errors();
    test_port_in_use();
    test_restart_and_fds();
    test_env_override();
    test_slow_does_not_block_fast();
    test_http_details();
    printf("ok\n");
    return 0;
}
