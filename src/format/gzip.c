#include "format/gzip.h"

#include <zlib.h>

int ix_gzip(const void *in, size_t n, ix_buf *out)
{
    z_stream z = {0};
    /* windowBits 15 + 16 selects the gzip wrapper; level 1 (BestSpeed) as Go's runtime/pprof. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound(&z, (uLong)n);
    if (ix_buf_reserve(out, bound)) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        out->len += z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}
