/* The gate: our own accept loop in front of libmicrohttpd.
 *
 * One thread accepts every connection (libmicrohttpd runs without a listen
 * socket), registers it with the connection tracker (caps and eviction,
 * http/conntrack.h) and, on plain HTTP, watches it until the whole request
 * (head and body) sits in the kernel's receive buffer. It never reads the
 * bytes: it peeks (MSG_PEEK) and parses the head with the strict parser
 * (http/head.h), so what libmicrohttpd later reads is exactly what was
 * checked. Then:
 *  - a malformed head gets a clean 4xx/5xx written by the gate, with our
 *    headers (nosniff, no-store, X-Go-Pprof) and Connection: close;
 *  - a head that the router can refuse by itself (421 wrong Host, 429
 *    throttled, 401, 403, 404, 405, 413) is answered at once, before any
 *    body is waited for;
 *  - otherwise the connection goes to libmicrohttpd (the handoff callback)
 *    with the request complete: no handler or libmicrohttpd buffer ever
 *    waits on a slow client.
 * Deadlines and the minimum transfer rate are enforced while the gate owns
 * a connection; every response closes its connection, so every request
 * passes the gate (keep-alive is traded for that guarantee; a pipelined
 * second request is never read and the first answer says Connection: close).
 *
 * Under TLS the bytes are encrypted: connections are handed over at accept
 * and the same field rules and router checks run in the server's request
 * callback on libmicrohttpd's parse (see SECURITY.md for what that leaves). */
#ifndef IX_GATE_H
#define IX_GATE_H

#include <stddef.h>
#include <sys/socket.h>

struct ix_gate;
struct ix_conntrack;

/* Give fd (with its client address) to the HTTP engine; it owns the fd from
 * now on, also on failure (returns -1). */
typedef int (*ix_gate_handoff_fn)(void *arg, int fd, const struct sockaddr *addr, socklen_t len);

struct ix_gate_config {
    int listen_fd;
    int tls;            /* hand over at accept, no peeking */
    size_t max_body;    /* Content-Length above: 413 */
    unsigned max_linger; /* answered connections kept draining at most */
    struct ix_conntrack *conns;
    ix_gate_handoff_fn handoff;
    void *handoff_arg;
};

/* Start the gate's thread. NULL on failure. */
struct ix_gate *ix_gate_start(const struct ix_gate_config *cfg);
/* Stop accepting, close every connection the gate still owns, join. */
void ix_gate_stop(struct ix_gate *g);
/* In a forked child: close the gate's descriptors (its thread did not survive the fork). */
void ix_gate_forked(struct ix_gate *g);

/* Write a complete response (status line, our common headers, resp's
 * headers, Connection: close, body) to a socket. Used by the gate for its
 * own answers. Returns 0, INTROSPECT_ELIMIT (head too long) or INTROSPECT_ESYS (not all of it
 * could be written now). */
struct ix_response;
int ix_gate_write_response(int fd, const struct ix_response *resp, int head_only);

/* Now as an HTTP Date (IMF-fixdate), without the C library's time zone lock. */
void ix_http_date(char *out, size_t n);

/* The address (without port) as text, for throttling and logs. */
void ix_addr_text(const struct sockaddr *a, char *out, size_t n);

#endif
