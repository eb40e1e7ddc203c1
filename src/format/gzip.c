#include "format/gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int ix_accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, " \t;,");
        int match = (n == 4 && !strncasecmp(p, "gzip", 4)) ||
                    (n == 6 && !strncasecmp(p, "x-gzip", 6)) || (n == 1 && *p == '*');
        const char *end = p + strcspn(p, ",");
        double q = 1;
        for (const char *s = memchr(p, ';', (size_t)(end - p)); s; s = memchr(s + 1, ';', (size_t)(end - s - 1))) {
            const char *k = s + 1;
            while (*k == ' ' || *k == '\t')
                k++;
            if ((*k == 'q' || *k == 'Q') && k[1] == '=')
                q = strtod(k + 2, NULL);
        }
        if (match && q > 0)
            return 1;
        p = end;
    }
    return 0;
}
