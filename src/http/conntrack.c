#include "http/conntrack.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "host/threads.h"
#include "util/clock.h"

struct ix_conntrack {
    pthread_mutex_t mu;
    struct ix_conn *head;
    unsigned count, max, per_addr;
    long long timeout_ns;
    unsigned long evicted, expired;
};

static int same_address(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return 0;
    if (b->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return 0;
}

static socklen_t addr_len(const struct sockaddr *a)
{
    return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void shut_locked(struct ix_conn *c)
{
    c->shut = 1;
    if (!c->gate_owned)
        shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd's loop sees EOF and closes it */
}

/* Is a more stalled than b? An unfinished request beats an idle socket;
 * then the one waiting longest. */
static int more_stalled(const struct ix_conn *a, const struct ix_conn *b)
{
    int sa = a->bytes > 0, sb = b->bytes > 0;
    if (sa != sb)
        return sa;
    return a->since_ns < b->since_ns;
}

struct ix_conntrack *ix_conntrack_new(unsigned max_connections, unsigned max_per_address,
                                      unsigned timeout_s)
{
    struct ix_conntrack *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->max = max_connections;
    t->per_addr = max_per_address;
    t->timeout_ns = (long long)timeout_s * 1000000000LL;
    return t;
}

void ix_conntrack_free(struct ix_conntrack *t)
{
    if (!t)
        return;
    for (struct ix_conn *c = t->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* With the lock: make room under a cap. from != NULL restricts the count
 * and the candidates to that address. 1 when there is room (perhaps after
 * evicting), 0 when everything is busy. */
static int make_room_locked(struct ix_conntrack *t, const struct sockaddr *from, unsigned cap,
                            struct ix_conn **victim)
{
    unsigned live = 0;
    struct ix_conn *best = NULL;
    for (struct ix_conn *c = t->head; c; c = c->next) {
        if (c->shut || (from && !same_address(&c->addr, from)))
            continue;
        live++;
        if (!c->busy && (!best || more_stalled(c, best)))
            best = c;
    }
    if (live < cap)
        return 1;
    if (!best)
        return 0;
    shut_locked(best);
    t->evicted++;
    if (best->gate_owned)
        *victim = best;
    return 1;
}

struct ix_conn *ix_conntrack_open(struct ix_conntrack *t, int fd, const struct sockaddr *addr,
                                  struct ix_conn **victim)
{
    *victim = NULL;
    struct ix_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->gate_owned = 1;
    c->since_ns = ix_mono_ns();
    memcpy(&c->addr, addr, addr_len(addr));
    pthread_mutex_lock(&t->mu);
    /* Per address first. An eviction there also frees a slot of the total
     * (the victim no longer counts as live), so at most one victim. */
    struct ix_conn *v = NULL;
    int ok = make_room_locked(t, addr, t->per_addr, &v) && make_room_locked(t, NULL, t->max, &v);
    if (ok) {
        c->next = t->head;
        if (t->head)
            t->head->prev = c;
        t->head = c;
        t->count++;
    }
    pthread_mutex_unlock(&t->mu);
    *victim = v;
    if (!ok) {
        free(c);
        return NULL;
    }
    return c;
}

static void unlink_locked(struct ix_conntrack *t, struct ix_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    t->count--;
}

void ix_conntrack_drop_unclaimed(struct ix_conntrack *t, struct ix_conn *c)
{
    pthread_mutex_lock(&t->mu);
    struct ix_conn *p = t->head;
    while (p && p != c)
        p = p->next;
    int drop = p && !p->claimed;
    if (drop)
        unlink_locked(t, c);
    pthread_mutex_unlock(&t->mu);
    if (drop)
        free(c);
}

void ix_conntrack_close(struct ix_conntrack *t, struct ix_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    t->count--;
    pthread_mutex_unlock(&t->mu);
    free(c);
}

void ix_conntrack_progress(struct ix_conntrack *t, struct ix_conn *c, size_t n)
{
    pthread_mutex_lock(&t->mu);
    c->bytes = n;
    pthread_mutex_unlock(&t->mu);
}

void ix_conntrack_handoff(struct ix_conntrack *t, struct ix_conn *c, int busy)
{
    pthread_mutex_lock(&t->mu);
    c->gate_owned = 0;
    c->busy = busy;
    c->bytes = 0;
    c->since_ns = ix_mono_ns();
    pthread_mutex_unlock(&t->mu);
}

struct ix_conn *ix_conntrack_claim(struct ix_conntrack *t, int fd)
{
    pthread_mutex_lock(&t->mu);
    struct ix_conn *c = t->head;
    while (c && (c->fd != fd || c->gate_owned || c->claimed))
        c = c->next;
    if (c)
        c->claimed = 1;
    pthread_mutex_unlock(&t->mu);
    return c;
}

void ix_conntrack_busy(struct ix_conntrack *t, struct ix_conn *c, int busy)
{
    if (!c)
        return;
    pthread_mutex_lock(&t->mu);
    c->busy = busy;
    if (!busy)
        c->since_ns = ix_mono_ns();
    pthread_mutex_unlock(&t->mu);
}

size_t ix_conntrack_expire(struct ix_conntrack *t, struct ix_conn **out, size_t max)
{
    size_t n = 0;
    long long now = ix_mono_ns();
    pthread_mutex_lock(&t->mu);
    for (struct ix_conn *c = t->head; c; c = c->next) {
        if (c->busy || c->shut)
            continue;
        long long age = now - c->since_ns;
        int overdue = age > t->timeout_ns;
        /* Too slow: started, past the grace period, under the minimum rate. */
        if (c->gate_owned && c->bytes > 0 && age > IX_MIN_RATE_GRACE_MS * 1000000LL &&
            (double)c->bytes < (double)age / 1e9 * IX_MIN_RATE)
            overdue = 1;
        if (!overdue || (c->gate_owned && n == max))
            continue;
        shut_locked(c);
        t->expired++;
        if (c->gate_owned)
            out[n++] = c;
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t ix_conntrack_take_gate_owned(struct ix_conntrack *t, struct ix_conn **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (struct ix_conn *c = t->head; c && n < max; c = c->next)
        if (c->gate_owned && !c->shut) {
            c->shut = 1;
            out[n++] = c;
        }
    pthread_mutex_unlock(&t->mu);
    return n;
}

unsigned ix_conntrack_count(struct ix_conntrack *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned n = t->count;
    pthread_mutex_unlock(&t->mu);
    return n;
}

unsigned long ix_conntrack_evicted(struct ix_conntrack *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned long n = t->evicted;
    pthread_mutex_unlock(&t->mu);
    return n;
}

unsigned long ix_conntrack_expired(struct ix_conntrack *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned long n = t->expired;
    pthread_mutex_unlock(&t->mu);
    return n;
}
