/* One HTTP/1.0 GET to a child's instance on loopback, with a deadline.
 * Small on purpose: our own servers answer with Connection: close and a
 * Content-Length, so the body is what follows the head until EOF. */
#ifndef IX_TREE_FETCH_H
#define IX_TREE_FETCH_H

#include "introspect.h"
#include "util/buf.h"

struct ix_fetch {
    /* in */
    int port;
    const char *target; /* path and query */
    const char *token;  /* NULL: none */
    long timeout_ms;
    /* out */
    int status;              /* 0 when no answer */
    char content_type[128];
    char content_encoding[32];
    char disposition[256];
    ix_buf body;
    char err[160];           /* why there is no answer */
    int timed_out;           /* the deadline passed (the process did not end the connection) */
};

/* 0 with status and body set, or with err set: INTROSPECT_ESYS (no
 * connection, timed out, connection lost), INTROSPECT_ELIMIT (answer over
 * 256 MiB) or INTROSPECT_EINVAL (malformed answer). Caller frees body. */
int ix_fetch_get(struct ix_fetch *f);

#endif
