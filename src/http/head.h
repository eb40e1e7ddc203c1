/* A strict parser of raw HTTP/1.x request heads, run on the bytes of each
 * connection before libmicrohttpd sees them (http/gate.h).
 *
 * Why a second parser: libmicrohttpd 0.9.75 lets the first of two
 * Content-Length headers win, lets chunked win over Content-Length without
 * closing, answers a malformed Content-Length with a body that repeats its
 * status line, waits 30 s on an unknown transfer coding and accepts NULs
 * and bare CRs. Each of these is a request-smuggling shape when something
 * in front of us parses differently. This parser accepts only the plain
 * subset every parser agrees on (RFC 9112): CRLF line ends, no NUL, no bare
 * CR or LF, no obsolete line folding, one Host, one Content-Length of
 * digits only, no Transfer-Encoding (we take bounded bodies with a length),
 * one Cookie, one Authorization. Anything else gets a clear 4xx/5xx.
 *
 * The parser reads a buffer and writes nothing into it: the gate peeks the
 * socket and parses again when more bytes arrive. ix_head_cstrings() then
 * turns the spans into C strings in the caller's private copy. */
#ifndef IX_HEAD_H
#define IX_HEAD_H

#include <stddef.h>

#define IX_HEAD_MAX_FIELDS 64
/* Largest request head (request line + header fields). */
#define IX_HEAD_MAX_BYTES (32 * 1024)
/* Content-Length too large to represent: always over any body limit. */
#define IX_HEAD_HUGE (-2LL)

struct ix_head_field {
    const char *name, *value; /* spans into the parsed buffer */
    size_t nlen, vlen;
};

struct ix_head {
    const char *method, *target;
    size_t mlen, tlen;
    int minor; /* HTTP/1.<minor> */
    struct ix_head_field fields[IX_HEAD_MAX_FIELDS];
    int nfields;
    long long content_length; /* -1: none; IX_HEAD_HUGE: more digits than fit */
    int expect_continue;      /* Expect: 100-continue */
};

/* Parse the head at the start of buf[0..n). Returns its length in bytes
 * (final CRLF CRLF included) when complete and valid; 0 when more bytes are
 * needed (everything so far is valid); or minus an HTTP status (-400, -411,
 * -414, -417, -431, -501, -505) with a one-line reason in *why. Errors are
 * reported as soon as the bytes seen prove them (a NUL in the first packet
 * does not wait for the rest of the head). */
long ix_head_parse(const char *buf, size_t n, struct ix_head *h, const char **why);

/* The rules on the header fields alone (duplicates, Content-Length syntax,
 * transfer codings, Expect), for heads parsed by someone else too (the TLS
 * path, where libmicrohttpd parses). Fills content_length and
 * expect_continue. Returns 0 or minus a status with *why. */
int ix_head_check_fields(struct ix_head *h, const char **why);

/* Case-insensitive field lookup: the index of the first field named name
 * (nlen bytes), or -1. */
int ix_head_find(const struct ix_head *h, const char *name);

/* Rewrite buf (the same bytes ix_head_parse accepted, in a writable copy)
 * so that method, target, every name and value end in NUL; the spans then
 * point into buf as C strings. */
void ix_head_cstrings(struct ix_head *h, char *buf, const char *parsed);

/* The reason phrase of a status code ("Bad Request"), "" when unknown. */
const char *ix_status_reason(int status);

#endif
