#include "gcstats/fdtypes.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "introspect.h"

static const char *const names[IX_FD_NTYPES] = {
    "socket", "pipe",     "file",    "device", "eventfd", "epoll",
    "timerfd", "signalfd", "inotify", "memfd",  "anon_inode", "other",
};

const char *ix_fd_type_name(int type)
{
    return type >= 0 && type < IX_FD_NTYPES ? names[type] : "other";
}

enum ix_fd_type ix_fd_classify(const char *t)
{
    if (!strncmp(t, "socket:", 7))
        return IX_FD_SOCKET;
    if (!strncmp(t, "pipe:", 5))
        return IX_FD_PIPE;
    if (!strncmp(t, "anon_inode:", 11)) {
        const char *k = t + 11;
        if (!strcmp(k, "[eventfd]"))
            return IX_FD_EVENTFD;
        if (!strcmp(k, "[eventpoll]"))
            return IX_FD_EPOLL;
        if (!strcmp(k, "[timerfd]"))
            return IX_FD_TIMERFD;
        if (!strcmp(k, "[signalfd]"))
            return IX_FD_SIGNALFD;
        if (!strcmp(k, "inotify"))
            return IX_FD_INOTIFY;
        return IX_FD_ANON;
    }
    if (!strncmp(t, "/memfd:", 7))
        return IX_FD_MEMFD;
    if (!strncmp(t, "/dev/", 5))
        return IX_FD_DEVICE;
    if (t[0] == '/')
        return IX_FD_FILE;
    return IX_FD_OTHER;
}

int64_t ix_fd_count_types(uint64_t counts[IX_FD_NTYPES])
{
    memset(counts, 0, IX_FD_NTYPES * sizeof *counts);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return INTROSPECT_ESYS;
    int self = dirfd(d);
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == self)
            continue;
        char target[256];
        ssize_t n = readlinkat(self, e->d_name, target, sizeof target - 1);
        if (n < 0)
            continue; /* closed meanwhile */
        target[n] = 0;
        counts[ix_fd_classify(target)]++;
        total++;
    }
    closedir(d);
    return total;
}
