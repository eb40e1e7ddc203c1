#include "http/gate.h"
#include "host/threads.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/conntrack.h"
#include "http/head.h"
#include "http/request.h"
#include "http/router.h"
#include "runtime.h"
#include "util/clock.h"
#include "util/pages.h"
#include "introspect.h"

#define TICK_MS 100
#define LINGER_NS 2000000000LL /* drain an answered connection this long at most */
#define MAX_EVENTS 64

enum { GC_READING, GC_LINGER, GC_DEAD };

struct gate_conn {
    int fd;
    int state;
    struct ix_conn *tc; /* NULL once lingering (the slot is free again) */
    struct sockaddr_storage addr;
    socklen_t alen;
    size_t need;   /* head + body length once the head is accepted; 0 before */
    int continued; /* 100 Continue sent */
    long long linger_until;
    struct gate_conn *lprev, *lnext; /* lingering list */
    struct gate_conn *dead_next;
};

struct ix_gate {
    struct ix_gate_config cfg;
    int ep, stopfd;
    pthread_t thread;
    struct gate_conn *lingering;
    unsigned nlinger;
    /* Freed after each batch of events: a later event of the same batch may
     * still name a connection closed by an earlier one (an eviction). */
    struct gate_conn *dead;
    int paused; /* the listener is out of the epoll set (no descriptors) */
    char *peek; /* one head's worth, reused */
};

/* ---- writing our own answers ---- */

/* RFC 9110's IMF-fixdate, spelled by hand: strftime's day and month names
 * follow the host's locale, and gmtime_r's lock must not be held by a
 * module thread when the host forks (util/clock.h, ix_utc). */
void ix_http_date(char *out, size_t n)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    ix_utc(ix_real_ns() / 1000000000LL, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int ix_gate_write_response(int fd, const struct ix_response *resp, int head_only)
{
    char head[4096], date[40];
    ix_http_date(date, sizeof date);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nX-Content-Type-Options: nosniff\r\n"
                     "Cache-Control: no-store\r\n",
                     resp->status, ix_status_reason(resp->status), date, resp->content_type);
    for (int i = 0; i < resp->nheaders && n > 0 && (size_t)n < sizeof head; i++)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s: %s\r\n", resp->headers[i].name,
                      resp->headers[i].value);
    if (n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Connection: close\r\nContent-Length: %zu\r\n\r\n", resp->body.len);
    if (n <= 0 || (size_t)n >= sizeof head)
        return INTROSPECT_ELIMIT;
    struct iovec iov[2] = {{head, (size_t)n}, {resp->body.data, head_only ? 0 : resp->body.len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    return w == (ssize_t)(iov[0].iov_len + iov[1].iov_len) ? 0 : INTROSPECT_ESYS;
}

/* ---- connection lifecycle ---- */

static void gate_close(struct ix_gate *g, struct gate_conn *gc)
{
    if (gc->state == GC_DEAD)
        return;
    epoll_ctl(g->ep, EPOLL_CTL_DEL, gc->fd, NULL);
    close(gc->fd);
    if (gc->tc)
        ix_conntrack_close(g->cfg.conns, gc->tc);
    if (gc->state == GC_LINGER) {
        if (gc->lprev)
            gc->lprev->lnext = gc->lnext;
        else
            g->lingering = gc->lnext;
        if (gc->lnext)
            gc->lnext->lprev = gc->lprev;
        g->nlinger--;
    }
    gc->state = GC_DEAD;
    gc->dead_next = g->dead;
    g->dead = gc;
}

static void bury(struct ix_gate *g)
{
    while (g->dead) {
        struct gate_conn *gc = g->dead;
        g->dead = gc->dead_next;
        free(gc);
    }
}

/* Discard what the client sends; 1 when it has closed (or failed). */
static int drain(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0)
            continue;
        return r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
}

/* Answered: stop reading requests, free the slot, and keep draining the
 * socket for a moment so closing it with unread bytes (a body we refused)
 * does not reset the connection before the client has read the answer. */
static void gate_answer(struct ix_gate *g, struct gate_conn *gc, const struct ix_response *resp,
                        int head_only)
{
    ix_gate_write_response(gc->fd, resp, head_only);
    shutdown(gc->fd, SHUT_WR);
    if (gc->tc) {
        ix_conntrack_close(g->cfg.conns, gc->tc);
        gc->tc = NULL;
    }
    if (drain(gc->fd) || g->nlinger >= g->cfg.max_linger) {
        gate_close(g, gc);
        return;
    }
    gc->state = GC_LINGER;
    gc->linger_until = ix_mono_ns() + LINGER_NS;
    gc->lprev = NULL;
    gc->lnext = g->lingering;
    if (g->lingering)
        g->lingering->lprev = gc;
    g->lingering = gc;
    g->nlinger++;
}

static void answer_error(struct ix_gate *g, struct gate_conn *gc, int status, const char *why)
{
    struct ix_response resp;
    ix_response_init(&resp);
    ix_respond_error(&resp, status, "%s", why);
    if (status == 503)
        ix_response_header(&resp, "Retry-After", "1");
    gate_answer(g, gc, &resp, 0);
    ix_response_free(&resp);
}

static void handoff(struct ix_gate *g, struct gate_conn *gc, int busy)
{
    epoll_ctl(g->ep, EPOLL_CTL_DEL, gc->fd, NULL);
    ix_conntrack_handoff(g->cfg.conns, gc->tc, busy);
    struct ix_conn *tc = gc->tc;
    if (g->cfg.handoff(g->cfg.handoff_arg, gc->fd, (struct sockaddr *)&gc->addr, gc->alen))
        ix_conntrack_drop_unclaimed(g->cfg.conns, tc); /* the engine closed the fd */
    gc->tc = NULL;
    gc->state = GC_DEAD;
    gc->dead_next = g->dead;
    g->dead = gc;
}

/* ---- the head ---- */

static const char *head_header(const struct ix_request *r, const char *name)
{
    const struct ix_head *h = r->conn;
    int i = ix_head_find(h, name);
    return i < 0 ? NULL : h->fields[i].value;
}

static int addr_is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

void ix_addr_text(const struct sockaddr *a, char *out, size_t n)
{
    out[0] = '\0';
    if (a->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out, (socklen_t)n);
    else if (a->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, out, (socklen_t)n);
}

/* The head is complete and well-formed: answer it here when the head alone
 * decides (1), or say how many bytes the whole request has (0). */
static int judge_head(struct ix_gate *g, struct gate_conn *gc, struct ix_head *h, long head_len)
{
    ix_head_cstrings(h, g->peek, g->peek);
    int head_only = strcmp(h->method, "HEAD") == 0;
    struct ix_response resp;
    ix_response_init(&resp);
    if (h->content_length == IX_HEAD_HUGE || h->content_length > (long long)g->cfg.max_body) {
        ix_respond_error(&resp, 413, "request body larger than %zu bytes", g->cfg.max_body);
        gate_answer(g, gc, &resp, head_only);
        ix_response_free(&resp);
        return 1;
    }
    struct ix_request req;
    memset(&req, 0, sizeof req);
    char addr[INET6_ADDRSTRLEN];
    ix_addr_text((struct sockaddr *)&gc->addr, addr, sizeof addr);
    req.method = h->method;
    req.conn = h;
    req.header_fn = head_header;
    req.client_is_loopback = addr_is_loopback(&gc->addr);
    req.client_addr = addr;
    const char *why = NULL;
    int answered = 1;
    if (ix_request_parse_uri(&req, h->target, &why))
        ix_respond_error(&resp, 400, "%s", why);
    else
        answered = ix_route_check_head(&req, &resp);
    ix_request_free(&req);
    if (answered) {
        gate_answer(g, gc, &resp, head_only);
        ix_response_free(&resp);
        return 1;
    }
    ix_response_free(&resp);
    gc->need = (size_t)head_len + (size_t)(h->content_length > 0 ? h->content_length : 0);
    if (h->expect_continue && h->content_length > 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(gc->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            gate_close(g, gc);
            return 1;
        }
        gc->continued = 1;
    }
    return 0;
}

/* New bytes (or a hangup) on a connection the gate reads. */
static void on_readable(struct ix_gate *g, struct gate_conn *gc, unsigned events)
{
    if (gc->state == GC_DEAD)
        return;
    if (gc->state == GC_LINGER) {
        if (drain(gc->fd))
            gate_close(g, gc);
        return;
    }
    int avail = 0;
    if (ioctl(gc->fd, FIONREAD, &avail) < 0) {
        gate_close(g, gc);
        return;
    }
    if (avail == 0) {
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            gate_close(g, gc); /* gone before sending a whole request */
        return;
    }
    if (!gc->need) {
        size_t want = (size_t)avail < IX_HEAD_MAX_BYTES + 16 ? (size_t)avail : IX_HEAD_MAX_BYTES + 16;
        ssize_t n = recv(gc->fd, g->peek, want, MSG_PEEK | MSG_DONTWAIT);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                gate_close(g, gc);
            return;
        }
        struct ix_head *h = malloc(sizeof *h);
        if (!h) {
            gate_close(g, gc);
            return;
        }
        const char *why = NULL;
        long len = ix_head_parse(g->peek, (size_t)n, h, &why);
        int done = 0;
        if (len < 0) {
            answer_error(g, gc, (int)-len, why);
            done = 1;
        } else if (len > 0) {
            done = judge_head(g, gc, h, len);
        }
        free(h);
        if (done)
            return;
    }
    ix_conntrack_progress(g->cfg.conns, gc->tc, (size_t)avail);
    if (gc->need && (size_t)avail >= gc->need)
        handoff(g, gc, 1);
    else if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        gate_close(g, gc); /* half a request and then EOF: nobody to answer */
}

/* ---- accepting ---- */

static void on_accept(struct ix_gate *g)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(g->cfg.listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop watching the listener (it would
                 * stay readable and spin the loop); the next tick retries. */
                if (!g->paused && epoll_ctl(g->ep, EPOLL_CTL_DEL, g->cfg.listen_fd, NULL) == 0)
                    g->paused = 1;
            }
            return;
        }
        struct gate_conn *gc = calloc(1, sizeof *gc);
        if (!gc) {
            close(fd);
            continue;
        }
        gc->fd = fd;
        gc->addr = ss;
        gc->alen = sl;
        struct ix_conn *victim = NULL;
        gc->tc = ix_conntrack_open(g->cfg.conns, fd, (struct sockaddr *)&ss, &victim);
        if (victim)
            gate_close(g, victim->owner);
        if (!gc->tc) { /* every connection is busy: say so, do not hang */
            answer_error(g, gc, 503, "every connection is busy (max_connections); retry shortly");
            continue;
        }
        gc->tc->owner = gc;
        if (g->cfg.tls) {
            handoff(g, gc, 0);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = gc};
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev)) {
            gate_close(g, gc);
            continue;
        } /* bytes already there are reported by the next epoll_wait */
    }
}

static void on_tick(struct ix_gate *g)
{
    struct ix_conn *over[64];
    size_t n;
    while ((n = ix_conntrack_expire(g->cfg.conns, over, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct gate_conn *gc = over[i]->owner;
            answer_error(g, gc, 408, "request not received in time (connection_timeout_s, "
                                     "or slower than the minimum rate)");
        }
        if (n < 64)
            break;
    }
    long long now = ix_mono_ns();
    for (struct gate_conn *gc = g->lingering, *next; gc; gc = next) {
        next = gc->lnext;
        if (now > gc->linger_until)
            gate_close(g, gc);
    }
}

static void *gate_main(void *arg)
{
    struct ix_gate *g = arg;
    struct epoll_event ev[MAX_EVENTS];
    long long next_tick = ix_mono_ns();
    for (;;) {
        int n = epoll_wait(g->ep, ev, MAX_EVENTS, TICK_MS);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &g->stopfd)
                return NULL;
            if (ev[i].data.ptr == &g->cfg.listen_fd)
                on_accept(g);
            else
                on_readable(g, ev[i].data.ptr, ev[i].events);
        }
        long long now = ix_mono_ns();
        if (now >= next_tick) {
            on_tick(g);
            if (g->paused) { /* descriptors may have come back */
                struct epoll_event a = {.events = EPOLLIN, .data.ptr = &g->cfg.listen_fd};
                if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->cfg.listen_fd, &a) == 0)
                    g->paused = 0;
            }
            next_tick = now + TICK_MS * 1000000LL;
        }
        bury(g);
    }
}

struct ix_gate *ix_gate_start(const struct ix_gate_config *cfg)
{
    struct ix_gate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *cfg;
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    g->peek = ix_pages_calloc(1, IX_HEAD_MAX_BYTES + 16); /* not in the host's heap */
    fcntl(cfg->listen_fd, F_SETFL, fcntl(cfg->listen_fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event a = {.events = EPOLLIN, .data.ptr = &g->cfg.listen_fd};
    struct epoll_event s = {.events = EPOLLIN, .data.ptr = &g->stopfd};
    if (g->ep < 0 || g->stopfd < 0 || !g->peek ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, cfg->listen_fd, &a) ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->stopfd, &s))
        goto fail;
    /* Born with every asynchronous signal blocked, named, kept out of heap profiles. */
    if (ix_module_thread_create(&g->thread, 0, gate_main, g, "introspect-gate"))
        goto fail;
    return g;
fail:
    if (g->ep >= 0)
        close(g->ep);
    if (g->stopfd >= 0)
        close(g->stopfd);
    ix_pages_free(g->peek);
    free(g);
    return NULL;
}

void ix_gate_forked(struct ix_gate *g)
{
    if (!g)
        return;
    /* The child has no gate thread: only its descriptors came along. */
    close(g->ep);
    close(g->stopfd);
}

void ix_gate_stop(struct ix_gate *g)
{
    if (!g)
        return;
    uint64_t one = 1;
    if (write(g->stopfd, &one, sizeof one) < 0) { /* cannot fail on a fresh eventfd */ }
    pthread_join(g->thread, NULL);
    /* What the gate still owns: connections still sending their request,
     * and answered ones draining. */
    struct ix_conntrack *t = g->cfg.conns;
    struct ix_conn *left[64];
    size_t n;
    while ((n = ix_conntrack_take_gate_owned(t, left, 64)) > 0)
        for (size_t i = 0; i < n; i++)
            gate_close(g, left[i]->owner);
    while (g->lingering)
        gate_close(g, g->lingering);
    bury(g);
    close(g->ep);
    close(g->stopfd);
    ix_pages_free(g->peek);
    free(g);
}
