/* The pool: one mutex, one condition variable that waiters sleep on with a
 * deadline (CLOCK_MONOTONIC), a LIFO list of idle connections (the most
 * recently used one is the warmest), and a janitor thread that closes idle
 * connections past their lifetime or idle time. Connections are opened and
 * closed outside the lock, after reserving their slot in `nopen`, so a slow
 * connect never blocks the others (database/sql does the same).
 *
 * Every event is reported to introspect: acquire start/end with the
 * outcome and whether the acquire had to block on the condition variable,
 * release, open, and close with its reason. */
#include "pgpool.h"

#include <errno.h>
#include <introspect.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"

struct pgpool_conn {
    struct pgpool_conn *next;
    const struct pgpool_driver *drv;
    void *h;
    int64_t created_ns;
    int64_t returned_ns; /* when it last went idle */
};

struct pgpool {
    pthread_mutex_t mu;
    pthread_cond_t avail;   /* a connection was released or a slot freed */
    pthread_cond_t drained; /* a connection closed or a caller left (for close) */
    pthread_cond_t tick;    /* wakes the janitor early (close) */
    struct pgpool_conn *idle;
    int nidle, nopen, ninuse;
    int closed;
    atomic_int callers; /* threads inside acquire/release: close waits for them */
    struct pgpool_config cfg;
    char *target;
    const struct pgpool_driver *drv;
    introspect_pool *ix;
    pthread_t janitor;
    int have_janitor;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec to_timespec(int64_t ns)
{
    return (struct timespec){(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
}

void pgpool_config_init(struct pgpool_config *c)
{
    memset(c, 0, sizeof *c);
    c->name = "db";
    c->max_open = 4;
    c->health_check_idle_ms = 30000;
}

const char *pgpool_backend(const struct pgpool *p) { return p->drv->name; }

/* Which limit, if any, retires an idle connection now. -1 = keep it. */
static int expired(const struct pgpool *p, const struct pgpool_conn *c, int64_t now)
{
    if (p->cfg.max_lifetime_ms > 0 && now - c->created_ns >= p->cfg.max_lifetime_ms * 1000000LL)
        return INTROSPECT_POOL_CLOSE_LIFETIME;
    if (p->cfg.max_idle_time_ms > 0 &&
        now - c->returned_ns >= p->cfg.max_idle_time_ms * 1000000LL)
        return INTROSPECT_POOL_CLOSE_IDLE_TIME;
    return -1;
}

/* Outside the lock: close the connection and free its slot. */
static void close_conn(struct pgpool *p, struct pgpool_conn *c, int reason)
{
    p->drv->disconnect(c->h);
    free(c);
    introspect_pool_conn_closed(p->ix, reason);
    pthread_mutex_lock(&p->mu);
    p->nopen--;
    pthread_cond_signal(&p->avail); /* room to open a new one */
    pthread_cond_broadcast(&p->drained);
    pthread_mutex_unlock(&p->mu);
}

/* Under the lock: detach every idle connection past a limit into *out. */
static void take_expired(struct pgpool *p, int64_t now, struct pgpool_conn **out, int *reasons,
                         int max, int *n)
{
    for (struct pgpool_conn **pp = &p->idle; *pp && *n < max;) {
        int r = expired(p, *pp, now);
        if (r < 0) {
            pp = &(*pp)->next;
            continue;
        }
        struct pgpool_conn *c = *pp;
        *pp = c->next;
        p->nidle--;
        out[*n] = c;
        reasons[(*n)++] = r;
    }
}

static long janitor_period_ms(const struct pgpool_config *c)
{
    long t = 0;
    if (c->max_lifetime_ms > 0)
        t = c->max_lifetime_ms;
    if (c->max_idle_time_ms > 0 && (t == 0 || c->max_idle_time_ms < t))
        t = c->max_idle_time_ms;
    t /= 2;
    return t < 10 ? 10 : t > 1000 ? 1000 : t;
}

static void *janitor_main(void *arg)
{
    struct pgpool *p = arg;
    long period = janitor_period_ms(&p->cfg);
    pthread_mutex_lock(&p->mu);
    while (!p->closed) {
        struct timespec dl = to_timespec(now_ns() + period * 1000000LL);
        pthread_cond_timedwait(&p->tick, &p->mu, &dl);
        if (p->closed)
            break;
        struct pgpool_conn *batch[16];
        int reasons[16], n = 0;
        take_expired(p, now_ns(), batch, reasons, 16, &n);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < n; i++)
            close_conn(p, batch[i], reasons[i]);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int init_sync(struct pgpool *p)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC))
        return -1;
    int rc = pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->avail, &ca) ||
             pthread_cond_init(&p->drained, &ca) || pthread_cond_init(&p->tick, &ca);
    pthread_condattr_destroy(&ca);
    return rc ? -1 : 0;
}

static int pick_driver(struct pgpool *p, const struct pgpool_config *c, char *why, size_t whylen)
{
    if (c->dsn && *c->dsn) {
        if (!pgpool_driver_pq) {
            snprintf(why, whylen, "this build has no libpq: cannot use a PostgreSQL DSN");
            return -1;
        }
        p->drv = pgpool_driver_pq;
        p->target = strdup(c->dsn);
    } else {
        p->drv = &pgpool_driver_sqlite;
        p->target = strdup(c->sqlite_path && *c->sqlite_path
                               ? c->sqlite_path
                               : "file:pgpool_default?mode=memory&cache=shared");
    }
    if (!p->target)
        snprintf(why, whylen, "out of memory");
    return p->target ? 0 : -1;
}

int pgpool_open(const struct pgpool_config *c, struct pgpool **out, char *why, size_t whylen)
{
    if (!c || !out || c->max_open <= 0 || c->max_idle < 0) {
        snprintf(why, whylen, "bad pool configuration (max_open must be > 0)");
        return PGPOOL_ERROR;
    }
    struct pgpool *p = calloc(1, sizeof *p);
    if (!p || init_sync(p) || pick_driver(p, c, why, whylen)) {
        if (p && !p->target)
            snprintf(why, whylen, "%s", why[0] ? why : "out of memory");
        if (p)
            free(p->target);
        free(p);
        return PGPOOL_ERROR;
    }
    p->cfg = *c;
    p->cfg.dsn = p->cfg.sqlite_path = NULL; /* not kept: target holds the copy */
    if (p->cfg.max_idle == 0 || p->cfg.max_idle > p->cfg.max_open)
        p->cfg.max_idle = p->cfg.max_open;
    int rc = introspect_pool_register(c->name ? c->name : "db", c->max_open, &p->ix);
    if (rc) {
        snprintf(why, whylen, "introspect_pool_register: %s", introspect_strerror(rc));
        free(p->target);
        free(p);
        return PGPOOL_ERROR;
    }
    p->cfg.name = NULL;
    if (c->max_lifetime_ms > 0 || c->max_idle_time_ms > 0)
        p->have_janitor = pthread_create(&p->janitor, NULL, janitor_main, p) == 0;
    *out = p;
    return PGPOOL_OK;
}

/* Outside the lock, slot reserved: open a connection. */
static struct pgpool_conn *open_conn(struct pgpool *p)
{
    char why[256] = "";
    struct pgpool_conn *c = calloc(1, sizeof *c);
    if (c && (c->h = p->drv->connect(p->target, why, sizeof why))) {
        c->drv = p->drv;
        c->created_ns = c->returned_ns = now_ns();
        introspect_pool_conn_opened(p->ix);
        return c;
    }
    free(c);
    fprintf(stderr, "pgpool: cannot connect: %s\n", why[0] ? why : "out of memory");
    pthread_mutex_lock(&p->mu);
    p->nopen--;
    pthread_cond_signal(&p->avail);
    pthread_cond_broadcast(&p->drained);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* A connection idle for long is pinged before use; a dead one is closed. */
static int healthy(struct pgpool *p, struct pgpool_conn *c)
{
    long after = p->cfg.health_check_idle_ms;
    if (after < 0 || now_ns() - c->returned_ns < after * 1000000LL)
        return 1;
    if (p->drv->ping(c->h) == 0)
        return 1;
    pthread_mutex_lock(&p->mu);
    p->ninuse--;
    pthread_mutex_unlock(&p->mu);
    close_conn(p, c, INTROSPECT_POOL_CLOSE_ERROR);
    return 0;
}

enum step { GOT_IDLE, MAY_OPEN, MUST_WAIT, CLOSED };

/* Under the lock: what the acquire can do now. Expired idle connections met
 * on the way are moved to *stale for closing outside the lock. */
static enum step next_step(struct pgpool *p, struct pgpool_conn **c, struct pgpool_conn **stale,
                           int *stale_reason)
{
    if (p->closed)
        return CLOSED;
    while (p->idle) {
        struct pgpool_conn *x = p->idle;
        p->idle = x->next;
        p->nidle--;
        int r = expired(p, x, now_ns());
        if (r < 0) {
            p->ninuse++;
            *c = x;
            return GOT_IDLE;
        }
        if (!*stale) { /* one at a time; the janitor takes the rest */
            *stale = x;
            *stale_reason = r;
            continue;
        }
        x->next = p->idle; /* put back: closed later */
        p->idle = x;
        p->nidle++;
        break;
    }
    if (p->nopen < p->cfg.max_open) {
        p->nopen++;
        p->ninuse++;
        return MAY_OPEN;
    }
    return MUST_WAIT;
}

/* One pass: lock, take or reserve a connection or wait once. Returns 1 when
 * the acquire is settled (rc set), 0 to try again. */
static int try_once(struct pgpool *p, int64_t deadline, int *waited, struct pgpool_conn **out,
                    int *rc)
{
    struct pgpool_conn *c = NULL, *stale = NULL;
    int stale_reason = 0, timed_out = 0;
    pthread_mutex_lock(&p->mu);
    enum step s = next_step(p, &c, &stale, &stale_reason);
    if (s == MUST_WAIT) {
        if (deadline == 0) {
            timed_out = 1;
        } else {
            *waited = 1;
            struct timespec dl = to_timespec(deadline);
            int w = deadline < 0 ? pthread_cond_wait(&p->avail, &p->mu)
                                 : pthread_cond_timedwait(&p->avail, &p->mu, &dl);
            timed_out = w == ETIMEDOUT;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (stale)
        close_conn(p, stale, stale_reason);
    switch (s) {
    case CLOSED: *rc = PGPOOL_CLOSED; return 1;
    case GOT_IDLE:
        if (!healthy(p, c))
            return 0;
        *out = c;
        *rc = PGPOOL_OK;
        return 1;
    case MAY_OPEN:
        if (!(c = open_conn(p))) {
            pthread_mutex_lock(&p->mu);
            p->ninuse--;
            pthread_mutex_unlock(&p->mu);
            *rc = PGPOOL_ERROR;
            return 1;
        }
        *out = c;
        *rc = PGPOOL_OK;
        return 1;
    default:
        if (timed_out) {
            *rc = PGPOOL_TIMEOUT;
            return 1;
        }
        return 0; /* woken: look again (another thread may have been faster) */
    }
}

static int outcome_of(int rc)
{
    switch (rc) {
    case PGPOOL_OK: return INTROSPECT_POOL_GOT;
    case PGPOOL_TIMEOUT: return INTROSPECT_POOL_TIMEOUT;
    case PGPOOL_CLOSED: return INTROSPECT_POOL_CANCELLED;
    default: return INTROSPECT_POOL_FAILED;
    }
}

/* The last thing a caller does: close may free p right after. */
static void leave(struct pgpool *p)
{
    pthread_mutex_lock(&p->mu);
    atomic_fetch_sub(&p->callers, 1);
    pthread_cond_broadcast(&p->drained);
    pthread_mutex_unlock(&p->mu);
}

int pgpool_acquire(struct pgpool *p, long timeout_ms, struct pgpool_conn **out)
{
    if (!p || !out)
        return PGPOOL_ERROR;
    atomic_fetch_add(&p->callers, 1);
    introspect_pool *ix = p->ix; /* p may be freed once callers drops */
    int64_t token = introspect_pool_acquire_start(ix);
    /* deadline: < 0 forever, 0 do not wait, else an absolute monotonic time */
    int64_t deadline = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : now_ns() + timeout_ms * 1000000LL;
    int waited = 0, rc = PGPOOL_ERROR;
    *out = NULL;
    while (!try_once(p, deadline, &waited, out, &rc))
        ;
    introspect_pool_acquire_end(ix, token, outcome_of(rc),
                                waited ? INTROSPECT_POOL_WAITED : INTROSPECT_POOL_NOWAIT);
    leave(p);
    return rc;
}

int pgpool_query(struct pgpool_conn *c, const char *sql, char *out, size_t outlen)
{
    if (!c || !sql || !out || outlen == 0)
        return -1;
    return c->drv->query(c->h, sql, out, outlen);
}

void pgpool_release(struct pgpool *p, struct pgpool_conn *c, int broken)
{
    if (!p || !c)
        return;
    atomic_fetch_add(&p->callers, 1);
    introspect_pool_release(p->ix);
    int64_t now = now_ns();
    int reason = broken ? INTROSPECT_POOL_CLOSE_ERROR : -1;
    pthread_mutex_lock(&p->mu);
    p->ninuse--;
    if (reason < 0 && p->closed)
        reason = INTROSPECT_POOL_CLOSE_SHUTDOWN;
    if (reason < 0 && p->cfg.max_lifetime_ms > 0 &&
        now - c->created_ns >= p->cfg.max_lifetime_ms * 1000000LL)
        reason = INTROSPECT_POOL_CLOSE_LIFETIME;
    if (reason < 0 && p->nidle >= p->cfg.max_idle)
        reason = INTROSPECT_POOL_CLOSE_MAX_IDLE;
    if (reason < 0) {
        c->returned_ns = now;
        c->next = p->idle;
        p->idle = c;
        p->nidle++;
        pthread_cond_signal(&p->avail);
    }
    pthread_mutex_unlock(&p->mu);
    if (reason >= 0)
        close_conn(p, c, reason);
    leave(p);
}

void pgpool_close(struct pgpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    pthread_cond_broadcast(&p->avail); /* waiters return PGPOOL_CLOSED */
    pthread_cond_broadcast(&p->tick);
    struct pgpool_conn *idle = p->idle;
    p->idle = NULL;
    p->nidle = 0;
    pthread_mutex_unlock(&p->mu);
    if (p->have_janitor)
        pthread_join(p->janitor, NULL);
    while (idle) {
        struct pgpool_conn *next = idle->next;
        close_conn(p, idle, INTROSPECT_POOL_CLOSE_SHUTDOWN);
        idle = next;
    }
    pthread_mutex_lock(&p->mu);
    while (p->nopen > 0 || atomic_load(&p->callers) > 0)
        pthread_cond_wait(&p->drained, &p->mu);
    pthread_mutex_unlock(&p->mu);
    introspect_pool_unregister(p->ix);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->avail);
    pthread_cond_destroy(&p->drained);
    pthread_cond_destroy(&p->tick);
    free(p->target);
    free(p);
}
