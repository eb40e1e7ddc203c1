/* /debug/pprof/symbol through the real router with a fake request: the POST
 * body is the input (as `go tool pprof` sends "0x1234+0x5678"), and so is
 * the GET query. When the route is not on this tree the router answers 404
 * and the target still exercises routing. Responses must be well-formed:
 * a status, and an error body that is a single line. */
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static void check(const struct ix_response *resp)
{
    if (resp->status < 100 || resp->status > 599)
        abort();
    if (resp->status >= 400 && resp->body.len) {
        const char *nl = memchr(resp->body.data, '\n', resp->body.len);
        if (nl && (size_t)(nl - resp->body.data) != resp->body.len - 1)
            abort(); /* errors are one line */
    }
}

static void run(const char *method, const char *uri, const char *body, size_t n)
{
    struct ix_request req;
    struct ix_response resp;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.body = body;
    req.body_len = n;
    req.client_is_loopback = 1;
    ix_response_init(&resp);
    const char *why;
    if (ix_request_parse_uri(&req, uri, &why) == 0) {
        ix_route_request(&req, &resp);
        check(&resp);
    }
    ix_response_free(&resp);
    ix_request_free(&req);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *body = malloc(n + 1);
    if (!body)
        return 0;
    memcpy(body, data, n);
    body[n] = '\0';
    run("POST", "/debug/pprof/symbol", body, n);
    size_t ql = strnlen(body, n);
    char *uri = malloc(ql + 32);
    if (uri) {
        memcpy(uri, "/debug/pprof/symbol?", 20);
        memcpy(uri + 20, body, ql);
        uri[20 + ql] = '\0';
        run("GET", uri, "", 0);
        free(uri);
    }
    free(body);
    return 0;
}
