/* Whole raw request heads (and whatever follows them) as the gate sees
 * them on a socket: the strict parser (http/head.c), then what the gate
 * does with an accepted head (C strings in a copy, the target split and
 * decoded, the router's head checks). Beyond crashes, it checks the
 * properties the gate relies on when it parses again as bytes arrive:
 *  - an accepted head of length L: every shorter prefix says "need more"
 *    (never an error), and L covers no NUL;
 *  - an error on a prefix stays an error on the whole input. */
#include <stdlib.h>
#include <string.h>

#include "http/head.h"
#include "http/request.h"
#include "http/router.h"

static const char *no_header(const struct ix_request *r, const char *name)
{
    const struct ix_head *h = r->conn;
    int i = ix_head_find(h, name);
    return i < 0 ? NULL : h->fields[i].value;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *buf = (const char *)data, *why = NULL;
    struct ix_head *h = malloc(sizeof *h), *h2 = malloc(sizeof *h2);
    if (!h || !h2)
        abort();
    long len = ix_head_parse(buf, n, h, &why);
    if (len < 0 && (!why || len < -599 || len > -400))
        abort(); /* an error is a 4xx/5xx with a reason */
    if (len > (long)n)
        abort();
    /* Prefixes: a few cut points, including just before the end. */
    size_t cuts[] = {n / 3, n / 2, n > 0 ? n - 1 : 0};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        if (cuts[i] >= n)
            continue;
        long p = ix_head_parse(buf, cuts[i], h2, &why);
        if (len > 0 && cuts[i] < (size_t)len && p != 0)
            abort(); /* a valid head's prefix is never judged an error */
        if (p < 0 && len >= 0)
            abort(); /* errors do not go away with more bytes */
        if (p > 0 && p != len)
            abort(); /* the head's end does not move */
    }
    if (len > 0) {
        if (memchr(buf, 0, (size_t)len) || h->mlen == 0 || h->tlen == 0 ||
            h->content_length < IX_HEAD_HUGE)
            abort();
        char *copy = malloc((size_t)len);
        memcpy(copy, buf, (size_t)len);
        ix_head_parse(copy, (size_t)len, h, &why);
        ix_head_cstrings(h, copy, copy);
        if (strlen(h->method) != h->mlen || strlen(h->target) != h->tlen)
            abort();
        struct ix_request req;
        memset(&req, 0, sizeof req);
        req.method = h->method;
        req.conn = h;
        req.header_fn = no_header;
        req.client_addr = "127.0.0.1";
        req.client_is_loopback = 1;
        struct ix_response resp;
        ix_response_init(&resp);
        if (ix_request_parse_uri(&req, h->target, &why) == 0)
            (void)ix_route_check_head(&req, &resp);
        ix_request_free(&req);
        ix_response_free(&resp);
        free(copy);
    }
    free(h);
    free(h2);
    return 0;
}
