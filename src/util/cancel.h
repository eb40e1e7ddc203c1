/* How a long producer (a delta profile, a memtrace loop) learns that the one
 * waiting for it went away, without knowing who that is: the endpoint passes
 * a callback (an HTTP request's "client gone" check), a test passes its own,
 * a background loop passes none. This keeps producers free of http/. */
#ifndef IX_CANCEL_H
#define IX_CANCEL_H

struct ix_cancel {
    int (*gone)(void *arg); /* non-zero: stop early; NULL: never */
    void *arg;
};

static inline int ix_cancelled(const struct ix_cancel *c)
{
    return c && c->gone && c->gone(c->arg);
}

#endif
