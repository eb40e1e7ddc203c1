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
 * tables. *status gets IX_COPY_CUT when the walk ended where the copy ends,
 * IX_COPY_ROOT when it reached the thread's first frame (a frame whose
 * return address is undefined: _start, clone3), neither when it stopped
 * elsewhere (code without unwind information, depth). Same output as above. */
enum { IX_COPY_CUT = 1, IX_COPY_ROOT = 2 };
int ix_unwind_copy(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                   uintptr_t *pcs, int max, int *status);
/* Why a walk of a copy stopped. */
enum ix_walk_end {
    IX_WALK_ROOT,     /* reached the outermost frame (the thread's or process's entry) */
    IX_WALK_MAX,      /* filled max frames */
    IX_WALK_COPY_END, /* a read fell beyond the copy */
    IX_WALK_NO_INFO,  /* code without usable CFI */
    IX_WALK_NO_FP,    /* an rbp-based frame while rbp was unknown (fp passed as 0) */
    IX_WALK_BAD       /* the rules gave an implausible frame */
};
/* ix_unwind_copy, saying why the walk stopped. fp = 0: the frame pointer
 * is unknown (it is then recovered from the first frame that saved it). */
int ix_unwind_copy_end(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                       uintptr_t *pcs, int max, int *end);
/* The caller's stack: return addresses, skipping `skip` frames above the caller. */
int ix_unwind_here(uintptr_t *pcs, int max, int skip);

#endif
