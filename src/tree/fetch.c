#include "tree/fetch.h"
#include "introspect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/errno_text.h"

#define MAX_BODY ((size_t)256 << 20)

static long left_ms(long long deadline)
{
    long long l = (deadline - ix_mono_ns()) / 1000000LL;
    return l < 0 ? 0 : (long)l;
}

/* 0 when fd is ready for ev, INTROSPECT_ESYS when the deadline passed or poll
 * failed. */
static int wait_fd(int fd, short ev, long long deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)left_ms(deadline));
        if (r > 0)
            return 0;
        if (r == 0)
            return INTROSPECT_ESYS;
        if (errno != EINTR)
            return INTROSPECT_ESYS;
    }
}

static void header_value(const char *head, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            v += strspn(v, " \t");
            size_t len = strcspn(v, "\r\n");
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

int ix_fetch_get(struct ix_fetch *f)
{
    long long deadline = ix_mono_ns() + (long long)f->timeout_ms * 1000000LL;
    f->status = 0;
    f->timed_out = 0;
    f->err[0] = '\0';
    ix_buf_init(&f->body);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(f->err, sizeof f->err, "socket: %s", ix_errno_text(errno));
        return INTROSPECT_ESYS;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)f->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        snprintf(f->err, sizeof f->err, "connect: %s", ix_errno_text(errno));
        close(fd);
        return INTROSPECT_ESYS;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (wait_fd(fd, POLLOUT, deadline) ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
        f->timed_out = !soerr;
        snprintf(f->err, sizeof f->err, "connect: %s", soerr ? ix_errno_text(soerr) : "timed out");
        close(fd);
        return INTROSPECT_ESYS;
    }
    ix_buf req;
    ix_buf_init(&req);
    ix_buf_printf(&req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nUser-Agent: introspect-tree\r\n",
                  f->target, f->port);
    if (f->token)
        ix_buf_printf(&req, "Authorization: Bearer %s\r\n", f->token);
    ix_buf_puts(&req, "\r\n");
    size_t off = 0;
    while (!req.oom && off < req.len) {
        ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR) && wait_fd(fd, POLLOUT, deadline) == 0)
            continue;
        break;
    }
    int sent = !req.oom && off == req.len;
    ix_buf_free(&req);
    if (!sent) {
        snprintf(f->err, sizeof f->err, "could not send the request");
        close(fd);
        return INTROSPECT_ESYS;
    }
    ix_buf all;
    ix_buf_init(&all);
    all.limit = MAX_BODY;
    int done = 0, rerr = 0;
    while (!all.oom) {
        if (ix_buf_reserve(&all, 65536))
            break;
        ssize_t r = recv(fd, all.data + all.len, 65536, 0);
        if (r > 0) {
            all.len += (size_t)r;
            continue;
        }
        if (r == 0) {
            done = 1;
            break;
        }
        if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) == 0)
                continue;
            f->timed_out = 1;
        } else {
            rerr = errno; /* ECONNRESET: the process ended */
        }
        break;
    }
    close(fd);
    if (!done) {
        if (all.oom)
            snprintf(f->err, sizeof f->err, "answer too large");
        else if (rerr)
            snprintf(f->err, sizeof f->err, "connection lost: %s", ix_errno_text(rerr));
        else
            snprintf(f->err, sizeof f->err, "no answer in %ld ms", f->timeout_ms);
        int oom = all.oom;
        ix_buf_free(&all);
        return oom ? INTROSPECT_ELIMIT : INTROSPECT_ESYS;
    }
    char *end = NULL;
    if (all.len) {
        all.data[all.len] = '\0'; /* reserve keeps room for it */
        end = memmem(all.data, all.len, "\r\n\r\n", 4);
    }
    int status = 0;
    if (!end || sscanf(all.data, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(f->err, sizeof f->err, "malformed answer (%zu bytes: %.40s)", all.len,
                 all.len ? all.data : "");
        for (char *c = f->err; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
        ix_buf_free(&all);
        return INTROSPECT_EINVAL;
    }
    *end = '\0';
    header_value(all.data, "Content-Type", f->content_type, sizeof f->content_type);
    header_value(all.data, "Content-Encoding", f->content_encoding, sizeof f->content_encoding);
    header_value(all.data, "Content-Disposition", f->disposition, sizeof f->disposition);
    size_t hl = (size_t)(end - all.data) + 4;
    ix_buf_put(&f->body, all.data + hl, all.len - hl);
    ix_buf_free(&all);
    f->status = status;
    return 0;
}
