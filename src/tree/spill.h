/* What a child that ends during a tree's CPU profile leaves behind.
 *
 * A child's samples live in its memory: when it exits in the middle of the
 * window, its answer to the root would die with it. So while the root runs
 * a tree CPU profile it keeps a private directory (mkdtemp, under
 * $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp; mode 0711: only its owner
 * lists it) and names it in the shared table. Inside, one subdirectory per
 * user the children run as, u<uid>, mode 0700 and owned by that user (a
 * root nginx master's workers run as `user`; a root that is not root
 * cannot give one away, and children of another user then leave nothing). A child that exits normally (exit(3), returning from main:
 * nginx workers, PostgreSQL's proc_exit) during its capture has its exit
 * held for a bounded time (introspect.c, IX_EXIT_HOLD_MS): its request's
 * own thread stops the capture, encodes what it had, and writes it there
 * as u<uid>/PID-START.pb.gz, 0600 (written under a temporary name and renamed, so the
 * root never reads half a file). The exiting thread only sets a flag and
 * sleeps: it takes no lock that a vanished thread could hold.
 *
 * When a child does not answer, the root takes its file if there is one
 * and merges it, and says so; when there is none it says why, as far as
 * /proc can tell while the child is a zombie (killed by signal N, exited
 * with status N). The last capture removes the directory. */
#ifndef IX_TREE_SPILL_H
#define IX_TREE_SPILL_H

#include <stddef.h>

#include "tree/table.h"
#include "util/buf.h"

/* Root, around a tree CPU profile of procs: make (the first one) and
 * publish the directory, with a subdirectory for each user among procs;
 * the last end removes it with whatever it still holds. begin returns 0,
 * INTROSPECT_EINVAL when not the root, or INTROSPECT_ESYS when no directory
 * could be made (children that exit then
 * contribute nothing, and are named missing). */
int ix_tree_spill_begin(const struct ix_tree_proc *procs, int n);
void ix_tree_spill_end(void);

/* Member: 1 when the root has a directory, so a capture should hold the exit. */
int ix_tree_spill_armed(void);
/* Member: write this process's partial profile. 0, INTROSPECT_ENOTSTARTED
 * (no directory armed), or INTROSPECT_ESYS. */
int ix_tree_spill_write(const void *data, size_t len);

/* The same for another kind of capture, kept apart by the file's suffix
 * (kind: a short name such as "trace.json"; the above are "pb.gz"): a tree
 * trace and a tree CPU profile may run at once (a trace's part, tree/route.c). */
#define IX_TREE_SPILL_TRACE_JSON "trace.json"
#define IX_TREE_SPILL_TRACE_PERFETTO "pftrace"
int ix_tree_spill_write_as(const char *kind, const void *data, size_t len);
int ix_tree_spill_take_as(int pid, unsigned long long start, const char *kind, ix_buf *out);
void ix_tree_spill_discard_as(int pid, unsigned long long start, const char *kind);

/* Root: the file process pid (started at start, /proc ticks) left: 0 with
 * its bytes in out (the file is removed), or INTROSPECT_ESYS when it left none
 * (or it could not be read whole). */
int ix_tree_spill_take(int pid, unsigned long long start, ix_buf *out);
/* Root: remove what pid may have left (a child that answered anyway). */
void ix_tree_spill_discard(int pid, unsigned long long start);

/* Root: why process pid ended, for the comments: "killed by signal 9
 * (Killed)", "exited with status 0"... 1 with out set when the process
 * ended, 0 when it still lives. wait_ms: how long a dying process may take
 * to become a zombie (its connection closes a moment before); 0 when the
 * request timed out (the process did not close it, so it is not dying). */
int ix_tree_gone_reason(int pid, unsigned long long start, int wait_ms, char *out, size_t n);

#endif
