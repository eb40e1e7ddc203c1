#include "http/heavy.h"

#include <pthread.h>
#include <string.h>

#include "util/clock.h"
#include "introspect.h"

#define MAX_KINDS 32

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *kind;
    int busy;
    long long until_ns; /* expected end of the running operation */
} g_slots[MAX_KINDS];
static int g_total;

/* With g_mu held: the slot for kind, registering it if new (NULL when full). */
static int slot_of(const char *kind)
{
    for (int i = 0; i < MAX_KINDS; i++) {
        if (!g_slots[i].kind) {
            g_slots[i].kind = kind;
            return i;
        }
        if (strcmp(g_slots[i].kind, kind) == 0)
            return i;
    }
    return -1;
}

static long retry_after_s(long long until_ns)
{
    long long left = until_ns - ix_mono_ns();
    long s = left > 0 ? (long)((left + 999999999LL) / 1000000000LL) : 1;
    return s < 1 ? 1 : s;
}

int ix_heavy_try(const char *kind, long expected_ms, struct ix_response *resp)
{
    return ix_heavy_try_as(kind, expected_ms, NULL, resp);
}

int ix_heavy_try_as(const char *kind, long expected_ms, const char *conflict_fmt,
                    struct ix_response *resp)
{
    pthread_mutex_lock(&g_mu);
    int i = slot_of(kind);
    if (i >= 0 && !g_slots[i].busy && g_total < IX_HEAVY_MAX_TOTAL) {
        g_slots[i].busy = 1;
        g_slots[i].until_ns = ix_mono_ns() + (long long)(expected_ms > 0 ? expected_ms : 0) * 1000000LL;
        g_total++;
        pthread_mutex_unlock(&g_mu);
        return 0;
    }
    int conflict = i >= 0 && g_slots[i].busy;
    /* 409: when this kind's operation should end; 429: the first to end. */
    long long soonest = 0;
    for (int k = 0; k < MAX_KINDS && g_slots[k].kind; k++)
        if (g_slots[k].busy && (!soonest || g_slots[k].until_ns < soonest))
            soonest = g_slots[k].until_ns;
    long retry = conflict ? retry_after_s(g_slots[i].until_ns) : soonest ? retry_after_s(soonest) : 1;
    pthread_mutex_unlock(&g_mu);
    if (conflict && conflict_fmt) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        ix_respond_error(resp, 409, conflict_fmt, retry);
#pragma GCC diagnostic pop
    } else if (conflict)
        ix_respond_error(resp, 409, "another %s is already running; retry in %ld s", kind, retry);
    else
        ix_respond_error(resp, 429, "too many heavy operations at once; retry in %ld s", retry);
    ix_response_header(resp, "Retry-After", "%ld", retry);
    return INTROSPECT_EBUSY;
}

void ix_heavy_done(const char *kind)
{
    pthread_mutex_lock(&g_mu);
    int i = slot_of(kind);
    if (i >= 0 && g_slots[i].busy) {
        g_slots[i].busy = 0;
        g_total--;
    }
    pthread_mutex_unlock(&g_mu);
}

void ix_heavy_forked(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    g_mu = fresh;
    for (int i = 0; i < MAX_KINDS; i++)
        g_slots[i].busy = 0;
    g_total = 0;
}

int ix_heavy_busy(const char *kind)
{
    pthread_mutex_lock(&g_mu);
    int i = slot_of(kind);
    int b = i >= 0 && g_slots[i].busy;
    pthread_mutex_unlock(&g_mu);
    return b;
}
