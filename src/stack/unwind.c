/* Stack walks. From a signal handler the fast path walks the interrupted
 * stack with the tables of stack/unwind_tables.c (a binary search per frame);
 * without tables, or when the leaf is in code they do not cover, libgcc's
 * _Unwind_Backtrace does it (DWARF interpreted per frame: slower, same
 * no-loader-lock guarantee through _dl_find_object). */
#include "stack/unwind.h"

#include <signal.h>
#include <stddef.h>
#include <ucontext.h>
#include <unwind.h>

#include "stack/unwind_tables.h"

/* A frame bigger than this means the rules or the stack are not what we
 * think: stop rather than read far away. */
#define MAX_FRAME (16u << 20)

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

/* Where a walk reads stack slots: the live stack (copy == NULL), or a copy
 * of the bytes [lo, lo + len) that the kernel took at a sample. */
struct stack_view {
    const uint8_t *copy;
    uintptr_t lo, len;
    int ran_out; /* a read fell beyond the copy */
    int root;    /* the walk reached a frame whose return address is undefined */
};

/* It reads other frames' stack slots on purpose: not an error for ASan. */
__attribute__((no_sanitize("address"))) static int read_slot(struct stack_view *v,
                                                             uintptr_t addr, uintptr_t *out)
{
    if (!v->copy) {
        *out = *(const uintptr_t *)addr;
        return 0;
    }
    if (addr < v->lo || v->len < sizeof *out || addr - v->lo > v->len - sizeof *out) {
        v->ran_out = 1; /* beyond the copy: the walk ends here */
        return -1;
    }
    __builtin_memcpy(out, v->copy + (addr - v->lo), sizeof *out);
    return 0;
}

/* Walk with the prepared tables from the given registers. Each step reads
 * only the return address (CFA - 8) and the saved rbp, both inside the frame
 * the rules describe; any doubt ends the walk. */
static int fast_walk(const struct ix_usnapshot *s, struct stack_view *v, uintptr_t pc,
                     uintptr_t sp, uintptr_t fp, uintptr_t *pcs, int max)
{
    const struct ix_uobject *obj = NULL;
    int n = 0;
    pcs[n++] = pc + 1;
    while (n < max) {
        uintptr_t cfa, ra;
        const struct ix_urow *r = ix_unwind_lookup(s, n == 1 ? pc : pc - 1, &obj);
        if (r && (r->flags & IX_UROW_OUTERMOST))
            v->root = 1; /* _start, clone3: the thread's first frame */
        if (!r || (r->flags & (IX_UROW_NOINFO | IX_UROW_UNKNOWN | IX_UROW_OUTERMOST)))
            break;
        if (r->flags & IX_UROW_RBP_CFA) {
            if (fp < sp || fp - sp > MAX_FRAME)
                break;
            cfa = fp + (uintptr_t)(intptr_t)r->cfa_off;
        } else {
            cfa = sp + (uintptr_t)(intptr_t)r->cfa_off;
        }
        if (cfa <= sp || cfa - sp > MAX_FRAME || (cfa & 7) || read_slot(v, cfa - 8, &ra))
            break;
        if (r->rbp_off != IX_UROW_NO_RBP &&
            read_slot(v, cfa + (uintptr_t)(intptr_t)r->rbp_off, &fp))
            break;
        sp = cfa;
        pc = ra;
        if (pc < 4096)
            break;
        pcs[n++] = pc;
    }
    return n;
}

int ix_unwind_copy(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                   uintptr_t *pcs, int max, int *status)
{
    *status = 0;
    if (max <= 0)
        return 0;
    const struct ix_usnapshot *snap = ix_unwind_tables_current();
    struct stack_view v = {stack, sp, len, 0, 0};
    if (snap && stack && len) {
        int n = fast_walk(snap, &v, pc, sp, fp, pcs, max);
        *status = (v.ran_out ? IX_WALK_CUT : 0) | (v.root ? IX_WALK_ROOT : 0);
        return n;
    }
    pcs[0] = pc + 1;
    return 1;
}

int ix_unwind_signal(const void *ucontext, uintptr_t *pcs, int max)
{
    if (max <= 0 || !ucontext)
        return 0;
    const ucontext_t *uc = ucontext;
    const struct ix_usnapshot *snap = ix_unwind_tables_current();
    if (snap) {
        struct stack_view live = {NULL, 0, 0, 0, 0};
        int n = fast_walk(snap, &live, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
                          (uintptr_t)uc->uc_mcontext.gregs[REG_RSP],
                          (uintptr_t)uc->uc_mcontext.gregs[REG_RBP], pcs, max);
        if (n > 1)
            return n;
    }
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
