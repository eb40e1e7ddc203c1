/* Open descriptors by type, from the links in /proc/self/fd: what a
 * descriptor leak grows (the leak sentinel's history counts them). */
#ifndef IX_FDTYPES_H
#define IX_FDTYPES_H

#include <stdint.h>

enum ix_fd_type {
    IX_FD_SOCKET,
    IX_FD_PIPE,
    IX_FD_FILE,     /* a path on a file system */
    IX_FD_DEVICE,   /* /dev/... */
    IX_FD_EVENTFD,  /* anon_inode:[eventfd] */
    IX_FD_EPOLL,    /* anon_inode:[eventpoll] */
    IX_FD_TIMERFD,
    IX_FD_SIGNALFD,
    IX_FD_INOTIFY,
    IX_FD_MEMFD,
    IX_FD_ANON,     /* another anon_inode (perf_event, bpf-map, io_uring, pidfd...) */
    IX_FD_OTHER,
    IX_FD_NTYPES
};

/* "socket", "pipe", "file", "device", "eventfd", ... */
const char *ix_fd_type_name(int type);
/* The type of a /proc/self/fd link target. */
enum ix_fd_type ix_fd_classify(const char *target);
/* Count the process's open descriptors by type (the one used for the listing
 * excluded). Returns the total, or INTROSPECT_ESYS when /proc/self/fd cannot be read. */
int64_t ix_fd_count_types(uint64_t counts[IX_FD_NTYPES]);

#endif
