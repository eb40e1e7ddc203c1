/* Routing basics over real loopback HTTP: index, 404/405/400 bodies, headers. */
#include <introspect.h>
#include "harness.h"

int main(void)
{
    int port = start_ephemeral();
    struct http_reply r;

    ASSERT(http_get(port, "/debug/pprof/", &r) == 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(http_header(&r, "Content-Type"), "text/html");
    ASSERT_STR_CONTAINS(http_header(&r, "X-Content-Type-Options"), "nosniff");
    ASSERT_STR_CONTAINS(http_header(&r, "Cache-Control"), "no-store");
    ASSERT_STR_CONTAINS(r.body, "/debug/vars");
    http_reply_free(&r);

    ASSERT(http_get(port, "/nope", &r) == 0);
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_CONTAINS(r.body, "unknown path: /nope\n");
    http_reply_free(&r);

    ASSERT(http_request(port, "PUT", "/metrics", NULL, NULL, 0, &r) == 0);
    ASSERT_EQ(r.status, 405);
    ASSERT_STR_CONTAINS(r.body, "method PUT not allowed");
    ASSERT_STR_CONTAINS(http_header(&r, "Allow"), "GET");
    http_reply_free(&r);

    ASSERT(http_get(port, "/debug/pprof/?format=%zz", &r) == 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "malformed percent-encoding");
    http_reply_free(&r);

    ASSERT(introspect_stop() == 0);
    printf("ok\n");
    return 0;
}
