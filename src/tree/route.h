/* What the root's address does for a tree (tree/table.h), in front of every
 * endpoint (the router's hook, http/router.h):
 *  - ?pid=N: the request goes to process N's instance and its answer comes
 *    back as it is (404 with a reason for a pid outside the tree; ?pid=self
 *    or the own pid: this process alone);
 *  - profile, heap, allocs, goroutine/threads, block, mutex in pprof form,
 *    asked of the root while children live: the same request goes to every
 *    process at once (the same window for a CPU profile), and the answers
 *    are merged (format/pprof_merge.h) with a pid and a process label per
 *    sample. A process that does not answer within its window and a grace
 *    is named in the profile's comments as missing; the request never
 *    waits longer than that. Their text forms (?debug=1, 2) are the
 *    processes' answers one after another, each under a header line;
 *  - trace (JSON) asked of the root while children live: every process
 *    traces the same window from one base time (?tree_t0_ns=) and the parts
 *    are spliced into one trace, a process group per pid
 *    (format/trace_merge.h); missing processes named in its otherData. */
#ifndef IX_TREE_ROUTE_H
#define IX_TREE_ROUTE_H

#include "http/router.h"

/* 1 when it answered resp, 0 when the local handler should. */
int ix_tree_route(const struct ix_request *req, struct ix_response *resp, ix_handler local);

/* Seconds a process gets beyond the request's own window before it is missing. */
#define IX_TREE_GRACE_S 10

#endif
