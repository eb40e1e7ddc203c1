/* The one mechanism for heavy operations: at most one of each kind at a
 * time (a CPU profile, a thread dump, a heap, allocs or block delta, and
 * later off-CPU, trace and tree-wide requests), and IX_HEAVY_MAX_TOTAL of
 * all kinds together, so concurrent scrapers cannot multiply the cost on
 * the host. An endpoint takes a slot by kind name; http/ knows no producer.
 *
 *   if (ix_heavy_try("cpu-profile", seconds * 1000, resp)) return; // 409/429 written
 *   ... do the work ...
 *   ix_heavy_done("cpu-profile");
 *
 * A kind is any static string (compared by content); the first call with a
 * new kind registers it. The expected duration feeds Retry-After. */
#ifndef IX_HEAVY_H
#define IX_HEAVY_H

#include "http/request.h"

/* Most heavy operations of all kinds at once (beyond: 429). Parca and
 * Alloy fetch one CPU profile and one goroutine dump at a time per target;
 * a third kind at once is allowed, a fourth waits. */
#define IX_HEAVY_MAX_TOTAL 3

/* Take the slot for kind. Returns 0, or INTROSPECT_EBUSY after writing into resp either
 * 409 Conflict (this kind is already running) or 429 Too Many Requests (too
 * many heavy operations overall), both with Retry-After in seconds. */
int ix_heavy_try(const char *kind, long expected_ms, struct ix_response *resp);
/* The same, with the endpoint's own 409 text for a kind already running
 * (e.g. Go's "Could not enable CPU profiling: cpu profiling already in
 * use"); conflict may contain one %ld, the seconds to wait. */
int ix_heavy_try_as(const char *kind, long expected_ms, const char *conflict,
                    struct ix_response *resp);
/* Release the slot taken by a successful ix_heavy_try. */
void ix_heavy_done(const char *kind);
/* 1 while an operation of this kind runs. */
int ix_heavy_busy(const char *kind);
/* In a forked child: the operations holding slots ran on threads that are gone. */
void ix_heavy_forked(void);

#endif
