#include "host/fork.h"
#include "introspect.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int same_local(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return 0;
}

int ix_close_sockets_bound_to(const struct sockaddr_storage *sa)
{
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return INTROSPECT_ESYS;
    /* Collect first, close after: closing while listing would shift the
     * directory under getdents. The module holds at most a few hundred. */
    int found[1024], nfound = 0;
    char buf[4096];
    for (;;) {
        long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            int fd = 0;
            const char *p = d->d_name;
            if (*p < '0' || *p > '9')
                continue;
            for (; *p >= '0' && *p <= '9'; p++)
                fd = fd * 10 + (*p - '0');
            if (fd == dir)
                continue;
            struct sockaddr_storage local;
            socklen_t len = sizeof local;
            int type = 0;
            socklen_t tl = sizeof type;
            if (getsockname(fd, (struct sockaddr *)&local, &len) != 0)
                continue; /* not a socket */
            if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
                continue;
            if (same_local(&local, sa) && nfound < (int)(sizeof found / sizeof found[0]))
                found[nfound++] = fd;
        }
    }
    close(dir);
    for (int i = 0; i < nfound; i++)
        close(found[i]);
    return nfound;
}
