/* Connection bookkeeping that libmicrohttpd does not do for us.
 *
 * Every accepted connection is registered here with its client address,
 * by the gate (http/gate.h) that accepts it. While the gate owns it (the
 * request head and body are still arriving) it is "stalled" if it has sent
 * part of a request and "idle" if it has sent nothing; once the whole
 * request has arrived it is handed to libmicrohttpd and is "busy" until it
 * closes (every response closes its connection).
 *
 * At the per-address cap, a new connection from that address evicts that
 * address's longest-stalled connection (an unfinished head or body first,
 * oldest first, then the longest idle); at the total cap the same rule runs
 * over every address. Busy connections are never evicted; when nothing can
 * be evicted the new connection is refused. So a client holding its
 * address's slots open (slow bodies, idle sockets) cannot keep out the
 * operator, the scrapers or an ssh tunnel arriving from the same address:
 * each new connection pushes out a stalled one.
 *
 * Under TLS the gate cannot read the request (it is encrypted), so it hands
 * connections over at once; libmicrohttpd reports when a request head has
 * arrived (busy) and when the response is done. Such a connection waiting
 * for its head is "idle" here and, when evicted or overdue, is shut down
 * (shutdown(2), never close) under the lock while registered:
 * libmicrohttpd unregisters a connection before closing its fd, so a
 * recycled descriptor is never touched. */
#ifndef IX_CONNTRACK_H
#define IX_CONNTRACK_H

#include <stddef.h>
#include <sys/socket.h>

struct ix_conntrack;

struct ix_conn {
    int fd;
    int gate_owned; /* 1: the gate reads it; 0: libmicrohttpd owns the fd */
    int busy;       /* a whole request arrived: never evicted */
    int shut;       /* on its way out: not live, not a candidate */
    int claimed;    /* libmicrohttpd's start notification has taken it */
    size_t bytes;   /* bytes of the current request seen (gate) */
    long long since_ns; /* when it started waiting for the current request */
    struct sockaddr_storage addr;
    void *owner; /* the gate's per-connection state */
    struct ix_conn *prev, *next;
};

struct ix_conntrack *ix_conntrack_new(unsigned max_connections, unsigned max_per_address,
                                      unsigned timeout_s);
void ix_conntrack_free(struct ix_conntrack *t);

/* Register a new gate-owned connection from addr. At a cap, first picks a
 * victim as described above: a libmicrohttpd-owned one is shut down here,
 * a gate-owned one is returned in *victim (marked shut; the caller closes
 * it and calls ix_conntrack_close). Returns the entry, or NULL when the
 * connection must be refused (nothing evictable, or out of memory). */
struct ix_conn *ix_conntrack_open(struct ix_conntrack *t, int fd, const struct sockaddr *addr,
                                  struct ix_conn **victim);
void ix_conntrack_close(struct ix_conntrack *t, struct ix_conn *c);
/* The gate saw n bytes of the current request so far. */
void ix_conntrack_progress(struct ix_conntrack *t, struct ix_conn *c, size_t n);
/* The gate hands c to libmicrohttpd (busy: the whole request is there). */
void ix_conntrack_handoff(struct ix_conntrack *t, struct ix_conn *c, int busy);
/* libmicrohttpd started managing fd: the entry handed off for it, or NULL. */
struct ix_conn *ix_conntrack_claim(struct ix_conntrack *t, int fd);
/* A handoff failed (the engine closed the fd): unregister c unless the
 * engine had claimed it (then its close notification does). */
void ix_conntrack_drop_unclaimed(struct ix_conntrack *t, struct ix_conn *c);
/* libmicrohttpd: the request head has arrived (busy) / the response is done. */
void ix_conntrack_busy(struct ix_conntrack *t, struct ix_conn *c, int busy);
/* Apply the deadline (the whole request within timeout_s of its start) and
 * the minimum transfer rate (IX_MIN_RATE bytes/s once started, after a
 * grace period). Overdue libmicrohttpd-owned connections are shut down;
 * overdue gate-owned ones are marked shut and returned in out[] (at most
 * max) for the caller to close. Returns how many were returned. */
size_t ix_conntrack_expire(struct ix_conntrack *t, struct ix_conn **out, size_t max);
/* At stop: up to max gate-owned connections, marked shut (the caller
 * closes them and calls ix_conntrack_close). Returns how many. */
size_t ix_conntrack_take_gate_owned(struct ix_conntrack *t, struct ix_conn **out, size_t max);
/* Counters for tests and stats. */
unsigned ix_conntrack_count(struct ix_conntrack *t);
unsigned long ix_conntrack_evicted(struct ix_conntrack *t);
unsigned long ix_conntrack_expired(struct ix_conntrack *t);

/* A request that has started must keep arriving at this rate on average
 * (bytes per second, after IX_MIN_RATE_GRACE_MS): a byte every few seconds
 * cannot hold a slot for the whole deadline. */
#define IX_MIN_RATE 256
#define IX_MIN_RATE_GRACE_MS 2000

#endif
