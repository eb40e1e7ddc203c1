/* Bearer-token access over real loopback HTTP, the UI's cookie login,
 * INTROSPECT_TOKEN, and the start-time refusals (non-loopback without a
 * token, unusable TLS files). */
#include <arpa/inet.h>
#include <introspect.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static int start_with(const char *token)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    c.token = token;
    int rc = introspect_start(&c);
    if (rc)
        fprintf(stderr, "start: %s\n", introspect_last_error());
    ASSERT_EQ(rc, 0);
    return introspect_port();
}

/* A GET from 127.0.0.<n>, a new address each time: wrong tokens are
 * throttled per address (tests/security/test_hostile.c tests that), and
 * this test sends many on purpose. */
static int status_with(int port, const char *path, const char *headers)
{
    static unsigned next;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in me = {.sin_family = AF_INET};
    me.sin_addr.s_addr = htonl(0x7f000000u | (2 + next++ % 250));
    ASSERT(bind(fd, (struct sockaddr *)&me, sizeof me) == 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    char req[2048], buf[65536];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path,
                     port, headers ? headers : "");
    ASSERT(write(fd, req, (size_t)n) == n);
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    int s = 0;
    ASSERT(sscanf(buf, "HTTP/1.1 %d", &s) == 1);
    if (s == 401) {
        ASSERT_STR_CONTAINS(buf, "WWW-Authenticate: Bearer realm=\"introspect\"");
        ASSERT_STR_CONTAINS(buf, "missing or wrong bearer token");
    }
    return s;
}

/* Every route, with and without the token. */
static void check_token_on_every_route(int port, const char *tok)
{
    const char *paths[] = {"/metrics", "/debug/vars", "/debug/pprof/", "/debug/pprof/cmdline",
                           "/nope"};
    char good[256], lower[256], wrong[256], prefix[256], longer[256];
    snprintf(good, sizeof good, "Authorization: Bearer %s\r\n", tok);
    snprintf(lower, sizeof lower, "Authorization: bearer %s\r\n", tok);
    snprintf(wrong, sizeof wrong, "Authorization: Bearer %.*sX\r\n", (int)strlen(tok) - 1, tok);
    snprintf(prefix, sizeof prefix, "Authorization: Bearer %.*s\r\n", (int)strlen(tok) - 1, tok);
    snprintf(longer, sizeof longer, "Authorization: Bearer %sX\r\n", tok);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int want = strcmp(paths[i], "/nope") ? 200 : 404;
        ASSERT_EQ(status_with(port, paths[i], NULL), 401);
        ASSERT_EQ(status_with(port, paths[i], wrong), 401);
        ASSERT_EQ(status_with(port, paths[i], prefix), 401);
        ASSERT_EQ(status_with(port, paths[i], longer), 401);
        ASSERT_EQ(status_with(port, paths[i], "Authorization: Basic Zm9vOmJhcg==\r\n"), 401);
        ASSERT_EQ(status_with(port, paths[i], good), want);
        ASSERT_EQ(status_with(port, paths[i], lower), want); /* the scheme is case-insensitive */
    }
}

/* /debug/pprof/ui/?token= sets the cookie a browser then sends with every request. */
static void check_ui_cookie_login(int port, const char *tok)
{
    char target[256], cookie[512], hex[200] = "";
    struct http_reply r;
    ASSERT_EQ(http_request(port, "GET", "/debug/pprof/ui/?token=wrong", NULL, NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 401);
    ASSERT(http_header(&r, "Set-Cookie") == NULL);
    http_reply_free(&r);
    snprintf(target, sizeof target, "/debug/pprof/ui/?token=%s", tok);
    ASSERT_EQ(http_request(port, "GET", target, NULL, NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 303);
    ASSERT_STR_CONTAINS(http_header(&r, "Location"), "/debug/pprof/ui/");
    const char *set = http_header(&r, "Set-Cookie");
    printf("Set-Cookie: %s\n", set);
    ASSERT_STR_CONTAINS(set, "HttpOnly");
    ASSERT_STR_CONTAINS(set, "SameSite=Strict");
    for (size_t i = 0; tok[i]; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)tok[i]);
    snprintf(cookie, sizeof cookie, "introspect_token=%s", hex);
    ASSERT_STR_CONTAINS(set, cookie);
    http_reply_free(&r);
    /* the cookie opens every route, among other cookies too */
    snprintf(cookie, sizeof cookie, "Cookie: theme=dark; introspect_token=%s; x=1\r\n", hex);
    ASSERT_EQ(status_with(port, "/debug/pprof/ui/", cookie), 200);
    ASSERT_EQ(status_with(port, "/debug/pprof/cmdline", cookie), 200);
    ASSERT_EQ(status_with(port, "/metrics", cookie), 200);
    /* a wrong, truncated or unnamed cookie does not */
    snprintf(cookie, sizeof cookie, "Cookie: introspect_token=%.*s\r\n", (int)strlen(hex) - 1, hex);
    ASSERT_EQ(status_with(port, "/metrics", cookie), 401);
    snprintf(cookie, sizeof cookie, "Cookie: other_token=%s\r\n", hex);
    ASSERT_EQ(status_with(port, "/metrics", cookie), 401);
    ASSERT_EQ(status_with(port, "/metrics", "Cookie: introspect_token=\r\n"), 401);
    ASSERT_EQ(status_with(port, "/debug/pprof/ui/", NULL), 401);
}

static void expect_start_error(introspect_config *c, int code, const char *why)
{
    ASSERT_EQ(introspect_start(c), code);
    ASSERT_STR_CONTAINS(introspect_last_error(), why);
    ASSERT_EQ(introspect_port(), INTROSPECT_ENOTSTARTED);
}

TEST(start_errors_say_why)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "0.0.0.0:0";
    expect_start_error(&c, INTROSPECT_ETOKEN, "INTROSPECT_TOKEN");
    c.addr = "127.0.0.1:0";
    c.tls_cert_file = "/nonexistent/cert.pem";
    c.tls_key_file = "/nonexistent/key.pem";
    expect_start_error(&c, INTROSPECT_EINVAL, "cannot read tls_cert_file /nonexistent/cert.pem: No such file");
    c.tls_key_file = NULL;
    expect_start_error(&c, INTROSPECT_EINVAL, "needs both tls_cert_file and tls_key_file");
    c.tls_cert_file = write_temp("notpem", "hello\n", 6);
    c.tls_key_file = c.tls_cert_file;
    expect_start_error(&c, INTROSPECT_EINVAL, "not a PEM file");
    const char *pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    c.tls_cert_file = write_temp("badpem", pem, strlen(pem));
    c.tls_key_file = c.tls_cert_file;
    expect_start_error(&c, INTROSPECT_EINVAL, "TLS certificate/key pair");
    setenv("INTROSPECT_TLS_CERT", "/nonexistent/env-cert.pem", 1);
    setenv("INTROSPECT_TLS_KEY", "/nonexistent/env-key.pem", 1);
    c.tls_cert_file = c.tls_key_file = NULL;
    expect_start_error(&c, INTROSPECT_EINVAL, "/nonexistent/env-cert.pem");
    unsetenv("INTROSPECT_TLS_CERT");
    unsetenv("INTROSPECT_TLS_KEY");
}

TEST(token_guards_every_route)
{
    int port = start_with("s3cret-Token_42");
    check_token_on_every_route(port, "s3cret-Token_42");
    ASSERT_OK(introspect_stop());
}

TEST(ui_token_query_sets_cookie_that_opens_routes)
{
    int port = start_with("s3cret-Token_42");
    check_ui_cookie_login(port, "s3cret-Token_42");
    ASSERT_OK(introspect_stop());
}

TEST(token_from_environment)
{
    setenv("INTROSPECT_TOKEN", "from-the-environment", 1);
    int port = start_with(NULL);
    check_token_on_every_route(port, "from-the-environment");
    ASSERT_OK(introspect_stop());
    unsetenv("INTROSPECT_TOKEN");
}

/* No token on loopback: everything is open, secrets included (loopback client). */
TEST(no_token_on_loopback_is_open)
{
    int port = start_with(NULL);
    ASSERT_EQ(status_with(port, "/debug/pprof/cmdline", NULL), 200);
    ASSERT_EQ(status_with(port, "/metrics", "Authorization: Bearer anything\r\n"), 200);
    ASSERT_OK(introspect_stop());
    ASSERT_STR_EQ(introspect_last_error(), ""); /* success clears it */
}

static const struct ix_test tests[] = {
    TEST_ENTRY(token_guards_every_route),
    TEST_ENTRY(ui_token_query_sets_cookie_that_opens_routes),
    TEST_ENTRY(token_from_environment),
    TEST_ENTRY(no_token_on_loopback_is_open),
    TEST_ENTRY(start_errors_say_why),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
