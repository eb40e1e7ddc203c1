/* Routing basics over real loopback HTTP: index, 404/405/400 bodies, headers. */
#include <introspect.h>
#include "harness.h"

TEST(index_is_html_with_safe_headers)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/", &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "text/html");
    ASSERT_STR_EQ(http_header(&r, "X-Content-Type-Options"), "nosniff");
    ASSERT_STR_CONTAINS(http_header(&r, "Cache-Control"), "no-store");
    ASSERT_STR_CONTAINS(r.body, "/debug/vars");
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

TEST(unknown_path_is_404)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/nope", &r), 0);
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_EQ(r.body, "unknown path: /nope\n");
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

TEST(wrong_method_is_405_with_allow)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_request(port, "PUT", "/metrics", NULL, NULL, 0, &r), 0);
    ASSERT_EQ(r.status, 405);
    ASSERT_STR_CONTAINS(r.body, "method PUT not allowed");
    ASSERT_STR_CONTAINS(http_header(&r, "Allow"), "GET");
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

TEST(malformed_percent_encoding_is_400)
{
    int port = start_ephemeral();
    struct http_reply r;
    ASSERT_EQ(http_get(port, "/debug/pprof/?format=%zz", &r), 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "malformed percent-encoding");
    http_reply_free(&r);
    ASSERT_OK(introspect_stop());
}

static const struct ix_test tests[] = {
    TEST_ENTRY(index_is_html_with_safe_headers),
    TEST_ENTRY(unknown_path_is_404),
    TEST_ENTRY(wrong_method_is_405_with_allow),
    TEST_ENTRY(malformed_percent_encoding_is_400),
    TEST_LIST_END,
};

int main(int argc, char **argv)
{
    return ix_run_tests(argc, argv, tests);
}
