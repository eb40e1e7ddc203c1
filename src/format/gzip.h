#ifndef IX_GZIP_H
#define IX_GZIP_H

#include "util/buf.h"

/* Gzip (RFC 1952) in into out. Returns 0 or INTROSPECT_ENOMEM. */
int ix_gzip(const void *in, size_t n, ix_buf *out);
/* The same with zlib, whatever the engine (tests; the fallback). */
int ix_gzip_zlib(const void *in, size_t n, ix_buf *out);
/* "libdeflate" or "zlib": what ix_gzip uses in this process. */
const char *ix_gzip_engine(void);
/* Gunzip (or read plain when in does not start with the gzip magic) into
 * out, at most limit bytes. Returns 0, INTROSPECT_EINVAL (truncated or corrupt),
 * INTROSPECT_ELIMIT (more than limit bytes) or INTROSPECT_ENOMEM. */
int ix_gunzip(const void *in, size_t n, ix_buf *out, size_t limit);
/* 1 when an Accept-Encoding header accepts gzip: a "gzip", "x-gzip" or "*"
 * coding whose q is not 0 (RFC 9110 12.5.3). */
int ix_accepts_gzip(const char *accept_encoding);

#endif
