#include "http/throttle.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "runtime.h"

#define SLOTS 1024

struct bucket {
    char addr[48]; /* "" = free */
    double tokens;
    long long at_ns; /* tokens were counted at this time */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bucket g_b[SLOTS];
static struct bucket g_shared; /* addresses that found the table full */

static void refill(struct bucket *b, long long now)
{
    b->tokens += (double)(now - b->at_ns) / 1e9 * IX_THROTTLE_PER_S;
    if (b->tokens > IX_THROTTLE_BURST)
        b->tokens = IX_THROTTLE_BURST;
    b->at_ns = now;
}

/* With g_mu: the bucket of addr, refilled to now. An address not in the
 * table gets a free slot (or one whose bucket is full again: nothing to
 * remember), claimed only when claim is set, else the shared bucket. */
static struct bucket *find(const char *addr, int claim, long long now)
{
    struct bucket *spare = NULL;
    for (int i = 0; i < SLOTS; i++) {
        struct bucket *b = &g_b[i];
        if (b->addr[0]) {
            refill(b, now);
            if (strcmp(b->addr, addr) == 0)
                return b;
        }
        if (!spare && (!b->addr[0] || b->tokens >= IX_THROTTLE_BURST))
            spare = b;
    }
    if (!spare) {
        if (!g_shared.at_ns) {
            g_shared.tokens = IX_THROTTLE_BURST;
            g_shared.at_ns = now;
        }
        refill(&g_shared, now);
        return &g_shared;
    }
    if (claim) {
        strncpy(spare->addr, addr, sizeof spare->addr - 1);
        spare->addr[sizeof spare->addr - 1] = '\0';
    }
    spare->tokens = IX_THROTTLE_BURST;
    spare->at_ns = now;
    return spare;
}

long ix_throttle_wait(const char *addr)
{
    pthread_mutex_lock(&g_mu);
    struct bucket *b = find(addr ? addr : "", 0, ix_mono_ns());
    long wait = 0;
    if (b->tokens < 1.0) {
        wait = (long)ceil((1.0 - b->tokens) / IX_THROTTLE_PER_S);
        if (wait < 1)
            wait = 1;
    }
    pthread_mutex_unlock(&g_mu);
    return wait;
}

void ix_throttle_failed(const char *addr)
{
    pthread_mutex_lock(&g_mu);
    struct bucket *b = find(addr ? addr : "", 1, ix_mono_ns());
    b->tokens -= 1.0;
    pthread_mutex_unlock(&g_mu);
}

void ix_throttle_reset(void)
{
    pthread_mutex_lock(&g_mu);
    memset(g_b, 0, sizeof g_b);
    memset(&g_shared, 0, sizeof g_shared);
    pthread_mutex_unlock(&g_mu);
}
