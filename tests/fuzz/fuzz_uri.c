/* The raw request target as the server sees it: split, percent-decode the
 * path, parse the query, then read parameters the way handlers do. */
#include <stdlib.h>
#include <string.h>

#include "http/request.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *uri = malloc(n + 1);
    if (!uri)
        return 0;
    memcpy(uri, data, n);
    uri[n] = '\0'; /* the server's URI is a C string: stop at the first NUL */
    struct ix_request req;
    memset(&req, 0, sizeof req);
    const char *why = NULL;
    if (ix_request_parse_uri(&req, uri, &why) == 0) {
        struct ix_response resp;
        ix_response_init(&resp);
        long v;
        ix_param_long(&req, &resp, "seconds", 0, 3600, 30, &v);
        ix_param_long(&req, &resp, "debug", 0, 2, 0, &v);
        (void)ix_param(&req, "format");
        for (int i = 0; i < req.nparams; i++)
            if (!req.params[i].key || !req.params[i].value)
                abort();
        ix_response_free(&resp);
    } else if (!why) {
        abort(); /* a failure always says why */
    }
    ix_request_free(&req);
    /* The decoder alone, both flavours, on a private copy. */
    char *s = malloc(strlen(uri) + 1);
    if (s) {
        strcpy(s, uri);
        size_t before = strlen(s);
        if (ix_percent_decode(s, 1) == 0 && strlen(s) > before)
            abort(); /* decoding never grows */
        free(s);
    }
    free(uri);
    return 0;
}
