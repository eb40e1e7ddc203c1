#ifndef IX_GZIP_H
#define IX_GZIP_H

#include "util/buf.h"

/* Gzip (RFC 1952) in into out. Returns 0 or -1. */
int ix_gzip(const void *in, size_t n, ix_buf *out);

#endif
