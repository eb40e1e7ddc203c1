#include "endpoints/compress.h"

#include "format/gzip.h"

void ix_compress_reply(const struct ix_request *req, struct ix_response *resp)
{
    ix_response_header(resp, "Vary", "Accept-Encoding");
    if (resp->status != 200 || !resp->body.len || !ix_accepts_gzip(ix_header(req, "Accept-Encoding")))
        return;
    ix_buf z;
    ix_buf_init(&z);
    if (ix_gzip(resp->body.data, resp->body.len, &z) == 0 && !z.oom) {
        z.limit = resp->body.limit;
        ix_buf_free(&resp->body);
        resp->body = z;
        ix_response_header(resp, "Content-Encoding", "gzip");
    } else {
        ix_buf_free(&z); /* the plain body still goes out */
    }
}
