/* The secret-route rule, driven through the router with requests whose
 * client address we choose (a real non-loopback client cannot reach a
 * server that refuses to bind non-loopback without a token). Links the
 * static library to reach the internal router. */
#include <introspect.h>
#include <strings.h>
#include "harness.h"
#include "http/router.h"

static const char *g_auth; /* the Authorization header of the fake request */

static const char *fake_header(const struct ix_request *r, const char *name)
{
    (void)r;
    return strcasecmp(name, "Authorization") == 0 ? g_auth : NULL;
}

static int route(const char *path, int loopback, const char *auth)
{
    struct ix_request req;
    struct ix_response resp;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = strdup(path);
    req.query = strdup("");
    req.client_is_loopback = loopback;
    req.header_fn = fake_header;
    g_auth = auth;
    ix_response_init(&resp);
    ix_route_request(&req, &resp);
    int s = resp.status;
    if (s == 403)
        ASSERT_STR_CONTAINS(resp.body.data, "may reveal secrets");
    ix_response_free(&resp);
    ix_request_free(&req);
    return s;
}

/* Without a token, secret routes (cmdline and vars at least) answer only
 * loopback clients; a header proves nothing. */
TEST(secret_routes_refuse_remote_clients_without_token)
{
    int nsecret = 0;
    for (size_t i = 0; i < ix_nroutes; i++)
        nsecret += ix_routes[i].secret;
    ASSERT_GE(nsecret, 2);

    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    ASSERT_EQ(introspect_start(&c), 0);
    for (size_t i = 0; i < ix_nroutes; i++) {
        const char *p = ix_routes[i].path;
        if (strchr(p, '*') || !ix_routes[i].summary)
            continue;
        if (ix_routes[i].secret) {
            ASSERT_EQ(route(p, 0, NULL), 403);           /* remote, no token configured */
            ASSERT_EQ(route(p, 0, "Bearer guess"), 403); /* no token: a header proves nothing */
        } else {
            ASSERT_NE(route(p, 0, NULL), 403);
        }
    }
    ASSERT_EQ(route("/debug/pprof/cmdline", 1, NULL), 200); /* loopback */
    ASSERT_EQ(route("/debug/vars", 1, NULL), 200);
    ASSERT_EQ(route("/metrics", 0, NULL), 200);
    ASSERT_EQ(introspect_stop(), 0);
}

/* With a token, every client needs it, loopback too. */
TEST(token_required_from_every_client)
{
    introspect_config c;
    introspect_config_init(&c);
    c.addr = "127.0.0.1:0";
    c.token = "tok";
    ASSERT_EQ(introspect_start(&c), 0);
    ASSERT_EQ(route("/debug/pprof/cmdline", 0, NULL), 401);
    ASSERT_EQ(route("/debug/pprof/cmdline", 1, NULL), 401); /* loopback needs it too */
    ASSERT_EQ(route("/debug/pprof/cmdline", 0, "Bearer tok"), 200);
    ASSERT_EQ(route("/debug/vars", 0, "Bearer tok"), 200);
    ASSERT_EQ(introspect_stop(), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(secret_routes_refuse_remote_clients_without_token),
    TEST_ENTRY(token_required_from_every_client),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
