#define _GNU_SOURCE
/* Limits over real sockets: at the connection cap and the per-IP cap new
 * connections evict idle ones, or are refused with a 503 when every one is
 * busy, instead of being left hanging; idle and slowly
 * dribbling (slowloris) connections are closed, oversized URIs, headers and
 * bodies get 414/431/413, and requests still work afterwards. Every read has
 * a receive timeout so a hang fails the test instead of blocking it. */
#include <arpa/inet.h>
#include <errno.h>
#include <introspect.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include "harness.h"

static int g_port;

/* Connect from 127.0.0.<src> (any 127/8 address is local on Linux). */
static int connect_from(int src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    me.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)src);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)g_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {15, 0}; /* watchdog for every read below */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Send a request and read until EOF. Returns the status, 0 when the server
 * closed without answering, -1 when the read timed out (a hang). */
static int request_on(int fd, const char *req)
{
    if (write(fd, req, strlen(req)) < 0 && errno != EPIPE && errno != ECONNRESET)
        return 0;
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -1;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            break;
    }
    buf[len] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

static const char *GET_METRICS = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

static int get_from(int src)
{
    int fd = connect_from(src);
    int s = request_on(fd, GET_METRICS);
    close(fd);
    return s;
}

/* The server closes fd within the watchdog: read returns EOF or reset. */
static void expect_closed(int fd)
{
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) > 0)
        ;
    ASSERT(n == 0 || errno == ECONNRESET);
}

/* Each behaviour: a server with small limits (8 connections, 4 per address, 2 s). */
static void start_limited(void)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    c.max_connections = 8;
    c.max_connections_per_ip = 4;
    c.connection_timeout_s = 2;
    ASSERT_OK(introspect_start(&c));
    g_port = introspect_port();
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* At the per-address cap, a new connection from that address evicts that
 * address's longest-idle connection instead of being refused: idle sockets
 * never lock out a real request from their own address. */
TEST(per_address_cap_evicts_idle_connection)
{
    start_limited();
    int idle[4];
    for (int i = 0; i < 4; i++)
        idle[i] = connect_from(2);
    sleep_ms(200); /* let the server accept them */
    ASSERT_EQ(get_from(2), 200); /* fifth from 127.0.0.2: served */
    expect_closed(idle[0]);      /* the oldest idle one from 127.0.0.2 made room */
    ASSERT_EQ(get_from(3), 200); /* another address still gets in */
    for (int i = 0; i < 4; i++)
        close(idle[i]);
    sleep_ms(200);
    ASSERT_EQ(get_from(2), 200); /* and the slots come back */
    ASSERT_OK(introspect_stop());
}

/* At the cap, a new connection evicts the longest-idle one: idle sockets
 * never lock out a real request. */
TEST(cap_evicts_longest_idle)
{
    start_limited();
    int idle[8];
    for (int i = 0; i < 8; i++) /* 2 per address over 4 addresses: the cap, not the per-IP cap */
        idle[i] = connect_from(10 + i / 2);
    sleep_ms(200);
    ASSERT_EQ(get_from(20), 200); /* ninth: answered */
    expect_closed(idle[0]);       /* the oldest idle one made room */
    for (int i = 0; i < 8; i++)
        close(idle[i]);
    sleep_ms(200);
    ASSERT_OK(introspect_stop());
}

/* A published variable that takes a while: holds a connection busy. */
static int slow_var(introspect_json *j, void *arg)
{
    (void)arg;
    sleep_ms(1500);
    introspect_json_int(j, 1);
    return 0;
}

static void *busy_client(void *arg)
{
    int *fdp = arg, fd = *fdp;
    *fdp = request_on(fd, "GET /debug/vars HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    close(fd);
    return NULL;
}

/* When every connection is busy, a new one is refused at once with a 503,
 * not queued. */
TEST(cap_refuses_when_all_busy)
{
    start_limited();
    introspect_var *v;
    ASSERT_EQ(introspect_var_func("slow_for_limits", slow_var, NULL, &v), 0);
    pthread_t th[8];
    int res[8];
    for (int i = 0; i < 8; i++) {
        res[i] = connect_from(60 + i / 2);
        ASSERT_EQ(pthread_create(&th[i], NULL, busy_client, &res[i]), 0);
    }
    sleep_ms(500); /* all eight are inside the slow handler now */
    ASSERT_EQ(get_from(70), 503);
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        ASSERT_EQ(res[i], 200);
    }
    ASSERT_EQ(get_from(70), 200);
    ASSERT_OK(introspect_stop());
}

TEST(idle_connections_time_out)
{
    start_limited();
    int fd = connect_from(30); /* says nothing */
    expect_closed(fd);
    close(fd);
    fd = connect_from(31); /* keep-alive after one answered request */
    const char *ka = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_GT(write(fd, ka, strlen(ka)), 0);
    expect_closed(fd); /* reads the answer, then EOF once idle too long */
    close(fd);
    ASSERT_OK(introspect_stop());
}

/* Slowloris: a byte of header every 300 ms never looks idle, but the whole
 * request head must arrive within the connection timeout. */
TEST(slowloris_head_times_out)
{
    start_limited();
    int fd = connect_from(40);
    const char *head = "GET /metrics HTTP/1.1\r\nX-Slow: ";
    ASSERT_GT(write(fd, head, strlen(head)), 0);
    int closed = 0;
    for (int i = 0; i < 50 && !closed; i++) { /* 15 s at most; the timeout is 2 s */
        sleep_ms(300);
        if (send(fd, "a", 1, MSG_NOSIGNAL) < 0)
            closed = 1;
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
        if (poll(&p, 1, 0) > 0)
            closed = 1;
    }
    ASSERT(closed);
    close(fd);
    ASSERT_EQ(get_from(40), 200);
    ASSERT_OK(introspect_stop());
}

TEST(oversized_uri_headers_body_are_refused)
{
    start_limited();
    size_t n = 100 * 1024;
    char *big = malloc(n + 200);
    memset(big, 'a', n + 200);
    char *req = malloc(n + 400);

    snprintf(req, n + 400, "GET /metrics?x=%.*s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             (int)n, big);
    int fd = connect_from(50);
    int s = request_on(fd, req);
    close(fd);
    ASSERT(s == 414 || s == 431 || s == 0); /* answered or closed, never hung */
    ASSERT_NE(s, -1);

    snprintf(req, n + 400, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: %.*s\r\nConnection: close\r\n\r\n",
             (int)n, big);
    fd = connect_from(50);
    s = request_on(fd, req);
    close(fd);
    ASSERT(s == 431 || s == 413 || s == 0);
    ASSERT_NE(s, -1);

    struct http_reply r;
    ASSERT_EQ(http_request(g_port, "POST", "/metrics", NULL, big, n, &r), 0);
    ASSERT_EQ(r.status, 413);
    ASSERT_STR_CONTAINS(r.body, "request body larger than");
    http_reply_free(&r);
    free(big);
    free(req);
    ASSERT_EQ(get_from(50), 200);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(per_address_cap_evicts_idle_connection),
    TEST_ENTRY(cap_evicts_longest_idle),
    TEST_ENTRY(cap_refuses_when_all_busy),
    TEST_ENTRY(idle_connections_time_out),
    TEST_ENTRY(slowloris_head_times_out),
    TEST_ENTRY(oversized_uri_headers_body_are_refused),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
