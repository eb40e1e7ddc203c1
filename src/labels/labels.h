/* Labels on samples, as Go's pprof.Do: key/value pairs bound to the current
 * thread, carried into the samples the thread produces.
 *
 * A label set is interned once into an immutable table and named by a small
 * id (0 = no labels), so a sample stores 4 bytes and a signal handler only
 * copies an integer. Sets are never freed (at most IX_LABELSETS_MAX; past
 * that a set is refused and the thread keeps its current one, counted).
 *
 * The thread's current id is a TLS word (initial-exec: readable from a
 * signal handler). Samplers that read a sample later than it was taken (the
 * perf ring engine, off-CPU walks) must not read another thread's TLS: every
 * change is also appended, with its CLOCK_MONOTONIC time, to the thread's
 * change log (a ring written by its owner only), and ix_labels_at(tid, t)
 * finds the set that was current at time t. A reader that lost the race with
 * a wrapping log gets IX_LABELS_UNKNOWN (counted). */
#ifndef IX_LABELS_H
#define IX_LABELS_H

#include <stdint.h>
#include <sys/types.h>

#define IX_LABELS_MAX_PAIRS 4
#define IX_LABELSETS_MAX 4096
#define IX_LABELS_UNKNOWN UINT32_MAX

struct ix_labelset {
    int n;
    const char *keys[IX_LABELS_MAX_PAIRS]; /* sorted by key */
    const char *vals[IX_LABELS_MAX_PAIRS];
};

/* The set named id, or NULL (0 and unknown ids have none). Never freed. */
const struct ix_labelset *ix_labelset_get(uint32_t id);
/* The id of base with key set to val (val NULL: key removed). Returns base
 * itself when the table is full or the pairs would exceed the maximum. */
uint32_t ix_labels_with(uint32_t base, const char *key, const char *val);

/* The calling thread's current set. Async-signal-safe. */
uint32_t ix_labels_current(void);
/* Make id current on the calling thread; now_ns is CLOCK_MONOTONIC now (the
 * caller often has it; pass 0 to read it here). */
void ix_labels_switch(uint32_t id, int64_t now_ns);
/* The set thread tid had at CLOCK_MONOTONIC time t_ns: 0 when it never set
 * labels, IX_LABELS_UNKNOWN when its log no longer reaches back to t_ns. */
uint32_t ix_labels_at(pid_t tid, int64_t t_ns);

struct ix_labels_stats {
    uint64_t sets;      /* interned sets */
    uint64_t refused;   /* sets not interned (table full, too many pairs) */
    uint64_t lookups;   /* ix_labels_at calls for threads with a log */
    uint64_t unknown;   /* of those, answered IX_LABELS_UNKNOWN */
};
void ix_labels_stats(struct ix_labels_stats *s);

#endif
