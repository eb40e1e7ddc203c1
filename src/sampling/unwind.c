#include "sampling/unwind.h"

#include <signal.h>
#include <stddef.h>
#include <ucontext.h>
#include <unwind.h>

struct walk {
    uintptr_t *pcs;
    int n, max, skip;
    uintptr_t want_ip; /* signal mode: start recording at the interrupted frame */
    int started;
};

static _Unwind_Reason_Code on_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    int before_insn = 0;
    uintptr_t ip = (uintptr_t)_Unwind_GetIPInfo(ctx, &before_insn);
    if (!ip)
        return _URC_END_OF_STACK;
    if (!w->started) {
        /* The signal frame reports the interrupted PC with before_insn set. */
        if (w->want_ip && !(before_insn && ip == w->want_ip))
            return _URC_NO_REASON;
        if (!w->want_ip && w->skip-- > 0)
            return _URC_NO_REASON;
        w->started = 1;
        if (w->want_ip) {
            w->pcs[w->n++] = ip + 1;
            return w->n < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
        }
    }
    w->pcs[w->n++] = ip;
    return w->n < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

int ix_unwind_signal(const void *ucontext, uintptr_t *pcs, int max)
{
    if (max <= 0 || !ucontext)
        return 0;
    const ucontext_t *uc = ucontext;
    uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    struct walk w = {pcs, 0, max, 0, ip, 0};
    _Unwind_Backtrace(on_frame, &w);
    if (w.n == 0) { /* no signal frame found: at least the interrupted PC */
        pcs[0] = ip + 1;
        w.n = 1;
    }
    return w.n;
}

__attribute__((noinline)) int ix_unwind_here(uintptr_t *pcs, int max, int skip)
{
    if (max <= 0)
        return 0;
    struct walk w = {pcs, 0, max, skip + 1, 0, 0}; /* +1: this function */
    _Unwind_Backtrace(on_frame, &w);
    return w.n;
}
