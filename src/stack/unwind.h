/* Stack capture. Both functions are async-signal-safe: no malloc, no locks
 * (libgcc's unwinder finds FDEs through glibc's _dl_find_object, which takes
 * no loader lock on glibc >= 2.35), so they may run inside signal handlers.
 * ix_unwind_signal is much faster while unwind tables are prepared
 * (stack/unwind_tables.h: the CPU profiler prepares them for a profile).
 * Output follows the profile model's PC convention (model/profile.h). */
#ifndef IX_UNWIND_H
#define IX_UNWIND_H

#include <stddef.h>
#include <stdint.h>

/* From a signal handler: the interrupted thread's stack, leaf first. pcs[0]
 * is the interrupted instruction + 1, the rest are return addresses. ucontext
 * is the handler's third argument. Returns the number of frames (>= 1 when
 * the context is usable). */
int ix_unwind_signal(const void *ucontext, uintptr_t *pcs, int max);
/* Off the signal path: the stack of a sample the kernel took (its user
 * registers and a copy of len bytes of stack from sp up), with the prepared
 * tables. *status gets IX_WALK_CUT when the walk ended where the copy ends,
 * IX_WALK_ROOT when it reached the thread's first frame (a frame whose
 * return address is undefined: _start, clone3), neither when it stopped
 * elsewhere (code without unwind information, depth). Same output as above. */
enum { IX_WALK_CUT = 1, IX_WALK_ROOT = 2 };
int ix_unwind_copy(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                   uintptr_t *pcs, int max, int *status);
/* The caller's stack: return addresses, skipping `skip` frames above the caller. */
int ix_unwind_here(uintptr_t *pcs, int max, int skip);

#endif
