/* The mutex profile, with Go's semantics (runtime.SetMutexProfileFraction):
 * where lock holders made others wait. The library interposes
 * pthread_mutex_lock/unlock and pthread_rwlock_rdlock/wrlock/unlock.
 *
 * Off (fraction 0, the default, as Go) each call is one relaxed load more
 * than libc's. On, a lock first tries the lock (trylock): the uncontended
 * path is that one call. When it fails, the waiter marks the lock's slot as
 * waited on (a small hash table by address), blocks in the real call and
 * measures how long it waited. An unlock that finds its slot waited on
 * records its own stack there (only contended unlocks pay for a stack).
 * The waiter then reports 1 in `fraction` waits, with the stack of the last
 * unlocker of that lock, scaled by fraction as Go does (contentions +=
 * fraction, delay += fraction * d), so the profile shows the code that held
 * the lock and made others wait, not the waiters.
 *
 * The real functions come from dlsym(RTLD_NEXT) at start (a chained
 * interposer, a sanitizer, keeps working); until then glibc's exported
 * __pthread_* aliases are called, so a lock taken inside dlsym, or before
 * the module starts, never recurses. The recording path (stack interning
 * takes a mutex) is guarded by a thread-local flag: locks taken while
 * recording go straight to libc. glibc's internal locks do not go through
 * the PLT and are not seen. */
#ifndef IX_MUTEX_PROF_H
#define IX_MUTEX_PROF_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model/profile.h"

#define IX_MUTEX_MAX_STACKS 4096

/* Cumulative values per stack id (dense, stable ids: two snapshots subtract). */
struct ix_mutex_snap {
    int n;
    uint64_t *count, *delay;
};

int ix_mutex_prof_start(const struct ix_config *cfg, char *why, size_t whylen);
/* Copy the counters (caller frees with ix_mutex_snap_free): 0 or
 * INTROSPECT_ENOMEM. */
int ix_mutex_snapshot(struct ix_mutex_snap *s);
void ix_mutex_snap_free(struct ix_mutex_snap *s);
/* Fill p (initialized by the caller) with now - base (base may be NULL): 0 or
 * INTROSPECT_ENOMEM. */
int ix_mutex_profile(struct ix_profile *p, const struct ix_mutex_snap *now,
                     const struct ix_mutex_snap *base);
/* Waits seen with no unlocker's stack to attribute them to (not recorded). */
uint64_t ix_mutex_unattributed(void);

#endif
