/* The HTTP transport: libmicrohttpd's epoll event loop does the I/O (idle
 * sockets cost a file descriptor, no thread); each request runs on a worker
 * from an elastic pool (http/workers.h) while its connection is suspended,
 * so a 30-second CPU profile never stalls a /metrics scrape. Optional TLS. */
#ifndef IX_SERVER_H
#define IX_SERVER_H

#include "config.h"

struct ix_server;

/* Bind exactly cfg->sa and start serving. Returns 0 or a negative code with a
 * reason in why. *port receives the bound port. */
int ix_server_start(const struct ix_config *cfg, struct ix_server **out, int *port, char *why,
                    size_t whylen);
/* Stop accepting, wait for in-flight handlers (they watch ix_stopping()) and free. */
void ix_server_stop(struct ix_server *s);
/* In a forked child: close the listener, the event loop's epoll descriptor
 * and every connection accepted on the listener; free nothing (the threads
 * that own the memory are gone). Async-signal-safe. */
void ix_server_forked(struct ix_server *s);

#endif
