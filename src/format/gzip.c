/* Gzip for the profile encoders and /metrics.
 *
 * libdeflate (Debian's libdeflate0) compresses a whole buffer about twice
 * as fast as zlib at the same level (a 1.3 MB pprof: 11.6 ms vs 21.5 ms at
 * level 1, 761 kB vs 776 kB; bench/README.md "Cost"), so when the shared
 * library is on the system (util/libdeflate.h) it is used and zlib is the
 * fallback.
 * INTROSPECT_GZIP=zlib keeps zlib (tests compare both). Level 1, as Go's
 * runtime/pprof (BestSpeed): any DEFLATE stream is read by pprof. */
#include "format/gzip.h"
#include "introspect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "util/libdeflate.h"

static const struct ix_libdeflate *compressor;
static pthread_once_t compressor_once = PTHREAD_ONCE_INIT;

/* Read once: the environment is not read again from module threads. */
static void choose_compressor(void)
{
    const char *e = getenv("INTROSPECT_GZIP");
    compressor = e && strcmp(e, "zlib") == 0 ? NULL : ix_libdeflate();
}

/* libdeflate unless INTROSPECT_GZIP=zlib, or NULL. */
static const struct ix_libdeflate *compressor_lib(void)
{
    pthread_once(&compressor_once, choose_compressor);
    return compressor;
}

/* 1: done (0 on success in *rc), 0: use zlib. */
static int gzip_libdeflate(const void *in, size_t n, ix_buf *out, int *rc)
{
    const struct ix_libdeflate *ld = compressor_lib();
    if (!ld)
        return 0;
    void *c = ld->alloc_compressor(1);
    if (!c)
        return 0;
    size_t bound = ld->gzip_compress_bound(c, n);
    *rc = INTROSPECT_ENOMEM;
    if (ix_buf_reserve(out, bound) == 0) {
        size_t got = ld->gzip_compress(c, in, n, out->data + out->len, bound);
        if (got) {
            out->len += got;
            out->data[out->len] = '\0';
            *rc = 0;
        }
    }
    ld->free_compressor(c);
    return 1;
}

const char *ix_gzip_engine(void) { return compressor_lib() ? "libdeflate" : "zlib"; }

int ix_gzip(const void *in, size_t n, ix_buf *out)
{
    int rc;
    if (gzip_libdeflate(in, n, out, &rc))
        return rc;
    return ix_gzip_zlib(in, n, out);
}

int ix_gzip_zlib(const void *in, size_t n, ix_buf *out)
{
    int rc;
    z_stream z = {0};
    /* windowBits 15 + 16 selects the gzip wrapper; level 1 (BestSpeed) as Go's runtime/pprof. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return INTROSPECT_ENOMEM;
    uLong bound = deflateBound(&z, (uLong)n);
    if (ix_buf_reserve(out, bound)) {
        deflateEnd(&z);
        return INTROSPECT_ENOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        out->len += z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : INTROSPECT_ENOMEM;
}

int ix_gunzip(const void *in, size_t n, ix_buf *out, size_t limit)
{
    const unsigned char *b = in;
    if (n < 2 || b[0] != 0x1f || b[1] != 0x8b) {
        ix_buf_put(out, in, n);
        return out->oom ? INTROSPECT_ENOMEM : 0;
    }
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return INTROSPECT_ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int rc = Z_OK, err = INTROSPECT_EINVAL; /* truncated or corrupt */
    while (rc == Z_OK) {
        if (out->len >= limit || ix_buf_reserve(out, 1 << 16)) {
            err = out->len >= limit ? INTROSPECT_ELIMIT : INTROSPECT_ENOMEM;
            rc = Z_MEM_ERROR;
            break;
        }
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = 1 << 16;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += (1 << 16) - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break; /* truncated */
    }
    inflateEnd(&z);
    if (rc == Z_MEM_ERROR && err == INTROSPECT_EINVAL)
        err = INTROSPECT_ENOMEM; /* zlib's own allocation */
    return rc == Z_STREAM_END ? 0 : err;
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
