/* profile.proto encoder (package perftools.profiles), gzipped as on the wire. */
#ifndef IX_PPROF_H
#define IX_PPROF_H

#include "model/profile.h"
#include "util/buf.h"

/* Encode r (resolved) as gzipped profile.proto into out. Returns 0 or -1. */
int ix_pprof_encode(const struct ix_resolved *r, ix_buf *out);

#endif
