/* The leak sentinel's history: a bounded record of what the process holds,
 * taken periodically on a module thread ("introspect-hist", every signal
 * blocked, its allocations never sampled), so that growth can be judged
 * while the server runs (leaks/leaks.h) and any two retained points can be
 * compared (the heap profile's ?base=).
 *
 * Each snapshot holds, per series: the heap sampler's raw counts per
 * allocation stack (no extra sampling: the sampler's buckets, keyed by
 * their stack), live threads per creating stack (sampling/threads/create.c),
 * live tasks per kind (registry/tasks.c), open descriptors per type
 * (/proc/self/fd), and process figures (RSS, the allocator's in-use and
 * mapped bytes, threads, descriptors).
 *
 * Memory: a snapshot stores only the series that changed since the one
 * before it (most allocation stacks do not change in ten seconds), plus a
 * dense copy of every series at the oldest retained snapshot. Retention is
 * in two tiers: every interval for the last 360 intervals (an hour at 10 s),
 * then one per 6 intervals for 2160 more (6 hours at 1 minute); dropping a
 * snapshot folds its changes into its successor. Above the byte budget the
 * oldest snapshots go first. */
#ifndef IX_LEAKS_HISTORY_H
#define IX_LEAKS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sampling/heap/heap.h"

#define IX_HISTORY_FINE 360   /* snapshots kept at full resolution */
#define IX_HISTORY_COARSE 2160 /* further intervals kept at 1 in 6 */
#define IX_HISTORY_COARSE_EVERY 6

int ix_history_start(const struct ix_config *cfg, char *why, size_t whylen);
void ix_history_stop(void);

struct ix_history_info {
    int enabled;
    int64_t interval_ns;
    size_t budget_bytes, used_bytes;
    size_t snapshots, series;
    int64_t oldest_ns, newest_ns; /* history clock; 0 when empty */
    int64_t max_span_ns;          /* the longest the tiers can keep */
    uint64_t taken, dropped;      /* snapshots taken; dropped over the budget */
    double last_snapshot_us;      /* time the last snapshot took (module thread) */
};
void ix_history_get_info(struct ix_history_info *out);

/* The history's clock: Unix time in ns (injectable for tests). */
int64_t ix_history_now_ns(void);

/* The heap sampler's records at the retained snapshot nearest to t_ns.
 * *out is malloc'd (caller frees); pcs point into the sampler (never freed).
 * Returns 0; INTROSPECT_ENOMEM; INTROSPECT_ENOTSTARTED when the history is
 * off; INTROSPECT_EINVAL when it holds nothing as old as t_ns (more than half
 * an interval before its oldest snapshot, or no snapshot yet). */
int ix_history_heap_at(int64_t t_ns, struct ix_heap_record **out, size_t *n, int64_t *at_ns);

/* ---- test hooks (tests link the static library) ----
 * A clock replaces the real one and stops the thread's own snapshots: the
 * test takes them with ix_history_snapshot_now(). NULL restores both. */
void ix_history_set_clock(int64_t (*now_ns)(void));
/* Take a snapshot at the clock's now (and run the sentinel's check).
 * Returns 0, INTROSPECT_ENOMEM, or INTROSPECT_ENOTSTARTED when the history
 * is off. */
int ix_history_snapshot_now(void);
/* Forget every snapshot and series (between a test's scenarios). */
void ix_history_reset(void);

#endif
