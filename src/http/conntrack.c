#include "http/conntrack.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "host/threads.h"
#include "util/clock.h"

struct ix_conn {
    int fd;
    int busy;
    int shut; /* already shut down: do not count it as a candidate again */
    long long since_ns; /* when it started waiting for a request head */
    struct ix_conn *prev, *next;
};

struct ix_conntrack {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ix_conn *head;
    unsigned count, max;
    long long timeout_ns;
    unsigned long evicted, expired;
    int stop;
    pthread_t reaper;
    int reaper_started;
};

static void shut_locked(struct ix_conn *c)
{
    c->shut = 1;
    shutdown(c->fd, SHUT_RDWR); /* the event loop sees EOF and closes it */
}

/* Wake every 250 ms and end request heads that are overdue. */
static void *reaper_main(void *arg)
{
    struct ix_conntrack *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec ts = ix_mono_deadline(250);
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        long long now = ix_mono_ns();
        for (struct ix_conn *c = t->head; c; c = c->next) {
            if (!c->busy && !c->shut && now - c->since_ns > t->timeout_ns) {
                shut_locked(c);
                t->expired++;
            }
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct ix_conntrack *ix_conntrack_new(unsigned max_connections, unsigned head_timeout_s)
{
    struct ix_conntrack *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->max = max_connections;
    t->timeout_ns = (long long)head_timeout_s * 1000000000LL;
    if (ix_module_thread_create(&t->reaper, 0, reaper_main, t, "introspect-reap")) {
        ix_conntrack_free(t);
        return NULL;
    }
    t->reaper_started = 1;
    return t;
}

void ix_conntrack_free(struct ix_conntrack *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->reaper_started)
        pthread_join(t->reaper, NULL);
    for (struct ix_conn *c = t->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int ix_conntrack_admit(struct ix_conntrack *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned live = 0;
    struct ix_conn *oldest = NULL;
    for (struct ix_conn *c = t->head; c; c = c->next) {
        if (c->shut)
            continue; /* on its way out */
        live++;
        if (!c->busy && (!oldest || c->since_ns < oldest->since_ns))
            oldest = c;
    }
    int ok = live < t->max;
    if (!ok && oldest) {
        shut_locked(oldest);
        t->evicted++;
        ok = 1;
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

struct ix_conn *ix_conntrack_open(struct ix_conntrack *t, int fd)
{
    struct ix_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->since_ns = ix_mono_ns();
    pthread_mutex_lock(&t->mu);
    c->next = t->head;
    if (t->head)
        t->head->prev = c;
    t->head = c;
    t->count++;
    pthread_mutex_unlock(&t->mu);
    return c;
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
