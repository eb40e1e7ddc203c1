/* What a forked child must not keep of the module. After fork(2) only the
 * forking thread exists in the child: the module's threads (event loop,
 * workers, reaper) are gone, but their descriptors and state are copied.
 * Left alone, the child would hold the listening socket (the kernel keeps
 * accepting connections nobody answers, and a restarted server cannot bind
 * the port while any child lives) and the parent's connections. The
 * lifecycle's atfork child handler (introspect.c) closes them with this and
 * resets the module to "not started" (docs/signals.md, "fork"). */
#ifndef IX_HOST_FORK_H
#define IX_HOST_FORK_H

#include <sys/socket.h>

/* Close every TCP socket of this process whose local address is `sa` (the
 * module's listener and the connections accepted on it). Async-signal-safe:
 * raw getdents64 over /proc/self/fd, no allocation, no lock. Returns the
 * number closed, or INTROSPECT_ESYS when /proc/self/fd cannot be read. */
int ix_close_sockets_bound_to(const struct sockaddr_storage *sa);

#endif
