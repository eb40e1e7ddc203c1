#include "gcstats/process.h"
#include <fcntl.h>
#include <unistd.h>
int ix_read_cmdline(ix_buf *out)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char tmp[4096];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        ix_buf_put(out, tmp, (size_t)n);
    close(fd);
    /* /proc ends each argument with NUL; Go joins with NUL (no trailing one). */
    if (out->len && out->data[out->len - 1] == '\0')
        out->len--;
    return n < 0 ? -1 : 0;
}
