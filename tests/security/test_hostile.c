#define _GNU_SOURCE
/* A hostile local client against the server, over raw sockets to 127.0.0.1
 * (clients bind 127.0.0.<n> to be different addresses). Each case of issue
 * 15 is replayed; each asserts the answer, that the connection is closed
 * where it must be, and that a normal request (from the same address and
 * another) is served meanwhile. Every read has a receive timeout (a hang
 * fails the test instead of blocking it); nothing asserts elapsed time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <introspect.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include "harness.h"

static int g_port;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connect from 127.0.0.<src>. */
static int connect_from(int src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    me.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)src);
    ASSERT(bind(fd, (struct sockaddr *)&me, sizeof me) == 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)g_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    struct timeval tv = {20, 0}; /* watchdog for every read below */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

struct reply {
    char buf[65536];
    size_t len;
    int status;  /* of the first response; 0 = closed without one */
    int closed;  /* EOF (or reset) seen: the server closed the connection */
    int hung;    /* the watchdog fired */
};

/* Read until the server closes (or the watchdog fires). */
static void read_all(int fd, struct reply *r)
{
    r->len = 0;
    r->closed = r->hung = 0;
    for (;;) {
        ssize_t n = read(fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            r->hung = 1;
            break;
        }
        if (n <= 0) {
            r->closed = 1;
            break;
        }
        r->len += (size_t)n;
        if (r->len == sizeof r->buf - 1)
            break;
    }
    r->buf[r->len] = '\0';
    r->status = 0;
    sscanf(r->buf, "HTTP/1.1 %d", &r->status);
}

/* Send raw bytes (NULs allowed) from 127.0.0.<src>, read the whole answer. */
static void exchange(int src, const char *req, size_t n, struct reply *r)
{
    int fd = connect_from(src);
    ASSERT(send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n);
    read_all(fd, r);
    close(fd);
}

static int count_of(const char *hay, size_t n, const char *needle)
{
    int k = 0;
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        k += memcmp(hay + i, needle, nl) == 0;
    return k;
}

/* Status lines: at the start and after a line end. */
static int status_lines(const struct reply *r)
{
    return (strncmp(r->buf, "HTTP/1.", 7) == 0) + count_of(r->buf, r->len, "\nHTTP/1.");
}

/* One clean error answer: one status line, our headers, a one-line body,
 * and the connection closed. */
static void assert_clean_error(const struct reply *r, int status)
{
    if (r->status != status)
        fprintf(stderr, "got:\n%s\n", r->buf);
    ASSERT_EQ(r->status, status);
    ASSERT(!r->hung);
    ASSERT(r->closed);
    ASSERT_EQ(status_lines(r), 1); /* never a second status line */
    ASSERT_STR_CONTAINS(r->buf, "X-Content-Type-Options: nosniff\r\n");
    ASSERT_STR_CONTAINS(r->buf, "Cache-Control: no-store\r\n");
    ASSERT_STR_CONTAINS(r->buf, "X-Go-Pprof: 1\r\n");
    ASSERT_STR_CONTAINS(r->buf, "Connection: close\r\n");
    ASSERT_STR_CONTAINS(r->buf, " GMT\r\n"); /* a Date header, RFC 9110 6.6.1 */
    const char *body = strstr(r->buf, "\r\n\r\n");
    ASSERT(body);
    body += 4;
    ASSERT(strlen(body) > 1 && strchr(body, '\n') == body + strlen(body) - 1); /* one line */
}

static int get_status(int src, const char *path, const char *headers)
{
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path,
                     g_port, headers ? headers : "");
    struct reply *r = malloc(sizeof *r);
    exchange(src, req, (size_t)n, r);
    ASSERT(!r->hung);
    int s = r->status;
    free(r);
    return s;
}

/* A normal request from the address under attack and from another one. */
static void served_meanwhile(int same, int other)
{
    ASSERT_EQ(get_status(same, "/metrics", NULL), 200);
    ASSERT_EQ(get_status(other, "/debug/pprof/cmdline", NULL), 200);
}

/* ---- slow request bodies ---- */

struct trickle {
    int fd[64];
    int n;
    atomic_int stop;
    int eof_without_answer[64], answered[64];
};

/* 100 bytes every 250 ms on each connection: above the minimum rate, so
 * only eviction (not the rate rule) can free their slots quickly. */
static void *trickle_main(void *arg)
{
    struct trickle *t = arg;
    char chunk[100];
    memset(chunk, '0', sizeof chunk);
    while (!atomic_load(&t->stop)) {
        for (int i = 0; i < t->n; i++) {
            if (t->fd[i] < 0)
                continue;
            struct pollfd p = {.fd = t->fd[i], .events = POLLIN | POLLRDHUP};
            if (poll(&p, 1, 0) > 0) { /* the server answered or closed: see which */
                char b[512];
                ssize_t r = recv(t->fd[i], b, sizeof b, MSG_DONTWAIT);
                if (r > 0)
                    t->answered[i] = 1;
                else
                    t->eof_without_answer[i] = 1;
                close(t->fd[i]);
                t->fd[i] = -1;
                continue;
            }
            send(t->fd[i], chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        sleep_ms(250);
    }
    return NULL;
}

/* 64 connections from 127.0.0.1..4 (16 each: both caps full) trickle POST
 * bodies; a GET from 127.0.0.1 and one from 127.0.0.5 are served at once,
 * each evicting a trickler. */
static void check_slow_bodies_do_not_lock_out(void)
{
    struct trickle *t = calloc(1, sizeof *t);
    t->n = 64;
    char head[256];
    int hn = snprintf(head, sizeof head, "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\n"
                                         "Content-Length: 60000\r\n\r\n");
    for (int i = 0; i < 64; i++) {
        t->fd[i] = connect_from(1 + i / 16);
        ASSERT(send(t->fd[i], head, (size_t)hn, MSG_NOSIGNAL) == hn);
    }
    pthread_t th;
    pthread_create(&th, NULL, trickle_main, t);
    sleep_ms(300);
    served_meanwhile(1, 5); /* the same address as 16 tricklers, and a new one (total cap) */
    ASSERT_EQ(get_status(3, "/metrics", NULL), 200);
    sleep_ms(600);
    atomic_store(&t->stop, 1);
    pthread_join(th, NULL);
    int evicted = 0;
    for (int i = 0; i < 64; i++) {
        evicted += t->eof_without_answer[i];
        if (t->fd[i] >= 0)
            close(t->fd[i]);
    }
    /* 127.0.0.1 and 127.0.0.3 were at their address cap: one eviction each
     * (the first also left room under the total cap for 127.0.0.5). */
    printf("slow bodies: %d of 64 tricklers evicted to serve 3 requests\n", evicted);
    ASSERT(evicted >= 2);
    free(t);
    sleep_ms(200);
}

/* A body trickled below the minimum rate gets 408 and is closed, long
 * before the 30 s deadline (bounded by the 20 s watchdog). */
static void check_slow_body_below_rate(void)
{
    int fd = connect_from(6);
    const char *head = "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: 60000\r\n\r\n";
    ASSERT(write(fd, head, strlen(head)) > 0);
    struct reply *r = malloc(sizeof *r);
    for (int i = 0; i < 60; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 250) > 0)
            break;
        send(fd, "0", 1, MSG_NOSIGNAL);
    }
    read_all(fd, r);
    close(fd);
    assert_clean_error(r, 408);
    free(r);
    served_meanwhile(6, 7);
}

/* With a token: 401, 404, 405 and 413 come from the head alone; the body is
 * never sent, yet the answer arrives, and the connection is closed. */
static void check_answers_from_head(const char *tok)
{
    char req[512];
    struct reply *r = malloc(sizeof *r);
    struct {
        const char *method, *path, *auth;
        long long cl;
        int want;
    } cases[] = {
        {"POST", "/debug/pprof/symbol", "", 60000, 401},
        {"POST", "/nope", "Authorization: Bearer %s\r\n", 60000, 404},
        {"POST", "/metrics", "Authorization: Bearer %s\r\n", 60000, 405},
        {"POST", "/debug/pprof/symbol", "Authorization: Bearer %s\r\n", 10000000, 413},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char auth[128];
        snprintf(auth, sizeof auth, cases[i].auth, tok);
        int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %lld\r\n\r\n",
                         cases[i].method, cases[i].path, auth, cases[i].cl);
        exchange(8, req, (size_t)n, r); /* head only: the body never comes */
        assert_clean_error(r, cases[i].want);
    }
    free(r);
    char good[128];
    snprintf(good, sizeof good, "Authorization: Bearer %s\r\n", tok);
    ASSERT_EQ(get_status(8, "/metrics", good), 200);
}

/* ---- idle connections from one address ---- */

static void check_idle_flood_same_address(void)
{
    int idle[16];
    for (int i = 0; i < 16; i++)
        idle[i] = connect_from(1);
    sleep_ms(200);
    for (int round = 0; round < 3; round++) { /* the flooder reopens what was closed */
        ASSERT_EQ(get_status(1, "/metrics", NULL), 200);
        for (int i = 0; i < 16; i++) {
            struct pollfd p = {.fd = idle[i], .events = POLLIN | POLLRDHUP};
            if (poll(&p, 1, 0) > 0) {
                close(idle[i]);
                idle[i] = connect_from(1);
            }
        }
        sleep_ms(100);
    }
    for (int i = 0; i < 16; i++)
        close(idle[i]);
    /* 300 half-open connections from 127.0.0.1, then a real request from it. */
    int *many = malloc(300 * sizeof *many);
    for (int i = 0; i < 300; i++)
        many[i] = connect_from(1);
    sleep_ms(300);
    ASSERT_EQ(get_status(1, "/metrics", NULL), 200);
    ASSERT_EQ(get_status(2, "/metrics", NULL), 200);
    for (int i = 0; i < 300; i++)
        close(many[i]);
    free(many);
    sleep_ms(300);
}

/* ---- Host header (DNS rebinding) ---- */

static int host_status(const char *host)
{
    char h[256];
    snprintf(h, sizeof h, "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: %s\r\n\r\n", host);
    struct reply *r = malloc(sizeof *r);
    exchange(9, h, strlen(h), r);
    int s = r->status;
    if (s == 421)
        assert_clean_error(r, 421);
    free(r);
    return s;
}

static void check_host_rebinding(void)
{
    ASSERT_EQ(host_status("evil.example"), 421);
    ASSERT_EQ(host_status("evil.example:6060"), 421);
    ASSERT_EQ(host_status("localhost.evil.example"), 421);
    ASSERT_EQ(host_status("127.0.0.1.nip.io"), 421);
    ASSERT_EQ(host_status("0x7f000001"), 421);
    ASSERT_EQ(host_status("localhost"), 200);
    ASSERT_EQ(host_status("LocalHost:7070"), 200); /* ssh -L on another local port */
    ASSERT_EQ(host_status("127.0.0.1"), 200);
    ASSERT_EQ(host_status("127.1.2.3:80"), 200);
    ASSERT_EQ(host_status("[::1]:6060"), 200);
    ASSERT_EQ(host_status("app.localhost"), 200);
    ASSERT_EQ(host_status("myhost.internal"), 200); /* allowed_hosts */
    ASSERT_EQ(host_status("other.internal"), 421);
    served_meanwhile(9, 10);
}

/* ---- token policy ---- */

static void check_weak_token_at_start(void)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "0.0.0.0:0";
    c.token = "a";
    ASSERT_EQ(introspect_start(&c), INTROSPECT_ETOKEN);
    ASSERT_STR_CONTAINS(introspect_last_error(), "the token is 1 bytes");
    ASSERT_STR_CONTAINS(introspect_last_error(), "at least 16");
    c.token = "0123456789abcde"; /* 15 */
    ASSERT_EQ(introspect_start(&c), INTROSPECT_ETOKEN);
    setenv("INTROSPECT_TOKEN", "short", 1);
    c.token = NULL;
    ASSERT_EQ(introspect_start(&c), INTROSPECT_ETOKEN);
    unsetenv("INTROSPECT_TOKEN");
    /* On loopback a weak token starts, with a warning on stderr. */
    char path[] = "/tmp/introspect-hostile-stderr-XXXXXX";
    int tmp = mkstemp(path);
    ASSERT(tmp >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(tmp, 2);
    c.addr = "127.0.0.1:0";
    c.token = "a";
    int rc = introspect_start(&c);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(introspect_stop(), 0);
    char buf[512] = "";
    ASSERT(pread(tmp, buf, sizeof buf - 1, 0) > 0);
    close(tmp);
    unlink(path);
    ASSERT_STR_CONTAINS(buf, "warning: the token is 1 bytes");
}

static void check_wrong_tokens_throttled(const char *tok)
{
    char good[128];
    snprintf(good, sizeof good, "Authorization: Bearer %s\r\n", tok);
    int n401 = 0;
    while (get_status(11, "/metrics", "Authorization: Bearer wrong-guess-000000\r\n") == 401)
        n401++;
    ASSERT_EQ(n401, 10); /* the burst */
    char req[256];
    snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
                              "Authorization: Bearer wrong-guess-000001\r\n\r\n");
    struct reply *r = malloc(sizeof *r);
    exchange(11, req, strlen(req), r);
    assert_clean_error(r, 429);
    const char *ra = strstr(r->buf, "Retry-After: ");
    ASSERT(ra);
    long wait = atol(ra + 13);
    ASSERT(wait >= 1 && wait <= 2);
    /* Throttled means not evaluated: the right token waits too... */
    ASSERT_EQ(get_status(11, "/metrics", good), 429);
    /* ...other addresses are not slowed... */
    ASSERT_EQ(get_status(12, "/metrics", good), 200);
    /* ...and after Retry-After the address may try again. */
    sleep_ms(wait * 1000 + 100);
    ASSERT_EQ(get_status(11, "/metrics", good), 200);
    free(r);
}

static void check_cookie_origin(const char *tok)
{
    char hex[128] = "", cookie[256], h[512];
    for (size_t i = 0; tok[i]; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)tok[i]);
    snprintf(cookie, sizeof cookie, "Cookie: introspect_token=%s\r\n", hex);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", cookie), 200); /* no browser headers: curl */
    snprintf(h, sizeof h, "%sOrigin: http://evil.example\r\n", cookie);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 403);
    snprintf(h, sizeof h, "%sOrigin: null\r\n", cookie);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 403);
    snprintf(h, sizeof h, "%sSec-Fetch-Site: cross-site\r\n", cookie);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 403);
    snprintf(h, sizeof h, "%sSec-Fetch-Site: same-site\r\n", cookie);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 403);
    snprintf(h, sizeof h, "%sOrigin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n", cookie,
             g_port);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 200);
    snprintf(h, sizeof h, "%sSec-Fetch-Site: none\r\n", cookie);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 200);
    /* A bearer request needs no origin check (a page cannot add the header). */
    snprintf(h, sizeof h, "Authorization: Bearer %s\r\nOrigin: http://evil.example\r\n", tok);
    ASSERT_EQ(get_status(13, "/debug/pprof/cmdline", h), 200);
}

/* ---- framing ---- */

static void check_smuggling_shapes(const char *tok)
{
    char auth_nul[256];
    int an = snprintf(auth_nul, sizeof auth_nul,
                      "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s", tok);
    memcpy(auth_nul + an, "\0junk\r\n\r\n", 9);
    an += 9;
    static const char nul_line[] = "GET /debug/pprof/cmdline\0 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct {
        const char *name;
        const char *req;
        size_t len; /* 0: strlen */
        int want;
    } cases[] = {
        {"two Content-Length", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
         "Content-Length: 70\r\n\r\n0x01GET /debug/pprof/cmdline HTTP/1.1\r\nHost: localhost\r\n\r\n", 0, 400},
        {"CL with TE", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /debug/pprof/cmdline HTTP/1.1\r\nHost: localhost\r\n\r\n", 0, 400},
        {"CL 4, 4", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4, 4\r\n\r\n0x01", 0, 400},
        {"CL -1", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n0x01", 0, 400},
        {"CL +4", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nContent-Length: +4\r\n\r\n0x01", 0, 400},
        {"CL huge", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\n"
         "Content-Length: 99999999999999999999999999\r\n\r\n0x01", 0, 413},
        {"TE gzip", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n0x01", 0, 501},
        {"TE xchunked", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n", 0, 501},
        {"TE chunked, chunked", "POST /debug/pprof/symbol HTTP/1.1\r\nHost: localhost\r\n"
         "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 0, 400},
        {"NUL in request line", nul_line, sizeof nul_line - 1, 400},
        {"NUL after bearer token", auth_nul, (size_t)an, 400},
        {"bare CR", "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: localhost\rX-Y: z\r\n\r\n", 0, 400},
        {"bare LF", "GET /debug/pprof/cmdline HTTP/1.1\nHost: localhost\n\n", 0, 400},
        {"two Cookie", "GET /metrics HTTP/1.1\r\nHost: localhost\r\nCookie: a=1\r\nCookie: introspect_token=00\r\n\r\n", 0, 400},
        {"two Host", "GET /metrics HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n", 0, 400},
        {"space before colon", "GET /metrics HTTP/1.1\r\nHost : localhost\r\n\r\n", 0, 400},
        {"line folding", "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n 2\r\n\r\n", 0, 400},
        {"HELLO", "HELLO\r\n\r\n", 0, 400},
        {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, 400},
        {"HTTP/1.1 without Host", "GET /metrics HTTP/1.1\r\n\r\n", 0, 400},
    };
    struct reply *r = malloc(sizeof *r);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].req);
        exchange(14, cases[i].req, n, r);
        if (r->status != cases[i].want)
            fprintf(stderr, "case %s\n", cases[i].name);
        assert_clean_error(r, cases[i].want);
        ASSERT(!strstr(r->buf, "/tmp/") && !strstr(r->buf, "test_hostile")); /* no smuggled cmdline */
    }
    free(r);
    char good[128];
    snprintf(good, sizeof good, "Authorization: Bearer %s\r\n", tok);
    ASSERT_EQ(get_status(14, "/metrics", good), 200);
    ASSERT_EQ(get_status(15, "/metrics", good), 200);
}

/* Ten pipelined GETs in one write: ten answers, or fewer with the last one
 * saying Connection: close (the client knows the rest were not served). */
static void check_pipelining(const char *tok)
{
    char one[256], all[2600] = "";
    snprintf(one, sizeof one, "GET /debug/pprof/cmdline HTTP/1.1\r\nHost: localhost\r\n"
                              "Authorization: Bearer %s\r\n\r\n", tok);
    for (int i = 0; i < 10; i++)
        strcat(all, one);
    struct reply *r = malloc(sizeof *r);
    exchange(16, all, strlen(all), r);
    ASSERT(!r->hung && r->closed);
    int answers = count_of(r->buf, r->len, "HTTP/1.1 200 OK\r\n");
    int closes = count_of(r->buf, r->len, "Connection: close\r\n");
    printf("pipelining: %d answers to 10 requests, %d with Connection: close\n", answers, closes);
    ASSERT(answers >= 1);
    ASSERT_EQ(status_lines(r), answers); /* nothing but 200s */
    if (answers < 10) {
        ASSERT_EQ(closes, 1);
        const char *last = r->buf, *p;
        while ((p = strstr(last + 1, "HTTP/1.1 200")))
            last = p;
        ASSERT(strstr(last, "Connection: close\r\n")); /* on the last answer */
    }
    free(r);
}

/* ---- heavy operations ---- */

struct heavy_req {
    const char *path;
    int status;
    char retry[32];
};

static void *heavy_main(void *arg)
{
    struct heavy_req *h = arg;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n",
                     h->path, "hostile-test-token-0123456789");
    struct reply *r = malloc(sizeof *r);
    int fd = connect_from(17);
    struct timeval tv = {60, 0}; /* the 20 s profiles answer after 20 s: a longer watchdog */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT(send(fd, req, (size_t)n, MSG_NOSIGNAL) == (ssize_t)n);
    read_all(fd, r);
    close(fd);
    h->status = r->status;
    const char *ra = strstr(r->buf, "Retry-After: ");
    if (ra)
        snprintf(h->retry, sizeof h->retry, "%.*s", (int)strcspn(ra + 13, "\r"), ra + 13);
    free(r);
    return NULL;
}

static void check_heavy_caps(void)
{
    /* Under TSan the CPU profiler is not run (its sampling machinery is not
     * TSan-instrumented; the cpu tests are not labelled tsan): a heap delta
     * stands in for it and a thread dump is the fourth kind. */
    const char *san = getenv("IX_SANITIZE");
    int tsan = san && strcmp(san, "thread") == 0;
    struct heavy_req running[3] = {{tsan ? "/debug/pprof/heap?seconds=20" : "/debug/pprof/profile?seconds=20", 0, ""},
                                   {"/debug/pprof/allocs?seconds=20", 0, ""},
                                   {"/debug/pprof/block?seconds=20", 0, ""}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, heavy_main, &running[i]);
    /* A fourth kind until all three hold their slots (a 200 means one of
     * them had not started yet: try again; no timing is assumed). */
    struct heavy_req fourth = {tsan ? "/debug/pprof/goroutine" : "/debug/pprof/heap?seconds=1", 0, ""};
    for (int i = 0; i < 10; i++) { /* at most ~13 s: well inside the 20 s the three run */
        sleep_ms(300);
        heavy_main(&fourth);
        if (fourth.status != 200)
            break;
    }
    struct heavy_req again = {tsan ? "/debug/pprof/heap?seconds=1" : "/debug/pprof/profile?seconds=1", 0, ""};
    heavy_main(&again);
    char good[128];
    snprintf(good, sizeof good, "Authorization: Bearer %s\r\n", "hostile-test-token-0123456789");
    ASSERT_EQ(get_status(18, "/metrics", good), 200); /* light requests are not held up */
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        if (running[i].status != 200)
            fprintf(stderr, "%s: %d\n", running[i].path, running[i].status);
        ASSERT_EQ(running[i].status, 200);
    }
    printf("heavy: fourth kind %d (Retry-After %s), second CPU profile %d\n", fourth.status,
           fourth.retry, again.status);
    ASSERT_EQ(fourth.status, 429);
    ASSERT(atol(fourth.retry) >= 1);
    ASSERT_EQ(again.status, 409);
    ASSERT(atol(again.retry) >= 1);
    fourth.path = "/debug/pprof/heap?seconds=1";
    heavy_main(&fourth); /* slots are back */
    ASSERT_EQ(fourth.status, 200);
}

static void start(const char *token, const char *allowed)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    c.token = token;
    c.allowed_hosts = allowed;
    int rc = introspect_start(&c);
    if (rc)
        fprintf(stderr, "start: %s\n", introspect_last_error());
    ASSERT_EQ(rc, 0);
    g_port = introspect_port();
}

#define TOK "hostile-test-token-0123456789"

TEST(weak_token_refused_off_loopback_warned_on_it) { check_weak_token_at_start(); }

/* Defaults: 64 connections, 16 per address, 30 s. */
TEST(slow_bodies_do_not_lock_out)
{
    start(NULL, NULL);
    check_slow_bodies_do_not_lock_out();
    ASSERT_OK(introspect_stop());
}

TEST(slow_body_below_minimum_rate_gets_408)
{
    start(NULL, NULL);
    check_slow_body_below_rate();
    ASSERT_OK(introspect_stop());
}

TEST(idle_flood_does_not_lock_out_its_address)
{
    start(NULL, NULL);
    check_idle_flood_same_address();
    ASSERT_OK(introspect_stop());
}

TEST(foreign_host_gets_421)
{
    start(NULL, "myhost.internal");
    check_host_rebinding();
    ASSERT_OK(introspect_stop());
}

TEST(refusals_come_from_the_head_alone)
{
    start(TOK, NULL);
    check_answers_from_head(TOK);
    ASSERT_OK(introspect_stop());
}

TEST(smuggling_shapes_get_one_clean_answer_and_close)
{
    start(TOK, NULL);
    check_smuggling_shapes(TOK);
    ASSERT_OK(introspect_stop());
}

TEST(pipelined_gets_are_never_dropped_silently)
{
    start(TOK, NULL);
    check_pipelining(TOK);
    ASSERT_OK(introspect_stop());
}

TEST(login_cookie_needs_same_origin)
{
    start(TOK, NULL);
    check_cookie_origin(TOK);
    ASSERT_OK(introspect_stop());
}

TEST(fourth_heavy_kind_gets_429_and_same_kind_409)
{
    start(TOK, NULL);
    check_heavy_caps();
    ASSERT_OK(introspect_stop());
}

TEST(wrong_tokens_are_throttled_per_address)
{
    start(TOK, NULL);
    check_wrong_tokens_throttled(TOK);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(weak_token_refused_off_loopback_warned_on_it),
    TEST_ENTRY(slow_bodies_do_not_lock_out),
    TEST_ENTRY(slow_body_below_minimum_rate_gets_408),
    TEST_ENTRY(idle_flood_does_not_lock_out_its_address),
    TEST_ENTRY(foreign_host_gets_421),
    TEST_ENTRY(refusals_come_from_the_head_alone),
    TEST_ENTRY(smuggling_shapes_get_one_clean_answer_and_close),
    TEST_ENTRY(pipelined_gets_are_never_dropped_silently),
    TEST_ENTRY(login_cookie_needs_same_origin),
    TEST_ENTRY(fourth_heavy_kind_gets_429_and_same_kind_409),
    TEST_ENTRY(wrong_tokens_are_throttled_per_address),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
