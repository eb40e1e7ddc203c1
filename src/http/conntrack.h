/* Connection bookkeeping that libmicrohttpd does not do for us:
 *  - at the connection cap, a new connection evicts the connection that has
 *    waited longest for a request instead of being left in the listen
 *    backlog (libmicrohttpd stops accepting at its limit, so new clients
 *    would hang): idle sockets can never lock out a real scrape;
 *  - the whole request head must arrive within the timeout after the
 *    connection starts waiting for it (slowloris: a byte every few seconds
 *    defeats an idle timeout, not this deadline).
 * Victims are shut down (shutdown(2), never close) while registered, under
 * the lock; libmicrohttpd unregisters a connection before closing its fd,
 * so a recycled descriptor is never touched. */
#ifndef IX_CONNTRACK_H
#define IX_CONNTRACK_H

struct ix_conntrack;
struct ix_conn;

struct ix_conntrack *ix_conntrack_new(unsigned max_connections, unsigned head_timeout_s);
void ix_conntrack_free(struct ix_conntrack *t);
/* A connection may be accepted (called before it is registered): 1 yes, 0
 * no (nothing idle to evict). May shut down an idle connection. */
int ix_conntrack_admit(struct ix_conntrack *t);
struct ix_conn *ix_conntrack_open(struct ix_conntrack *t, int fd);
void ix_conntrack_close(struct ix_conntrack *t, struct ix_conn *c);
/* The request head has arrived (busy) / the response is done (waiting again). */
void ix_conntrack_busy(struct ix_conntrack *t, struct ix_conn *c, int busy);
/* Counters for tests and stats. */
unsigned ix_conntrack_count(struct ix_conntrack *t);
unsigned long ix_conntrack_evicted(struct ix_conntrack *t);
unsigned long ix_conntrack_expired(struct ix_conntrack *t);

#endif
