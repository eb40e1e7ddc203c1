/* The HTTP transport: libmicrohttpd, thread per connection (capped), so a
 * 30-second CPU profile never stalls a /metrics scrape. */
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

#endif
