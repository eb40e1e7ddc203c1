/* Stack walks. From a signal handler the fast path walks the interrupted
 * stack with the tables of stack/unwind_tables.c (a binary search per frame);
 * without tables, or when the leaf is in code they do not cover, libgcc's
 * _Unwind_Backtrace does it (DWARF interpreted per frame: slower, same
 * no-loader-lock guarantee through _dl_find_object). */
#include "stack/unwind.h"

#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stddef.h>
#include <ucontext.h>
#include <unwind.h>

#include "introspect.h"
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
    int end;     /* why the walk stopped (enum ix_walk_end) */
    int recovered; /* frame pointers recovered from code (copies only) */
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

/* ---- Recovering an unknown frame pointer (walks of blocked threads) ----
 *
 * /proc gives a blocked thread's SP and PC but not rbp. Code built with frame
 * pointers has rbp-based CFAs, and the leaf (a libc wrapper) often never
 * saves rbp, so the first such frame would end the walk. Its rbp is found
 * from its code instead: the function's entry (the FDE's first row) starts
 * with `push %rbp; mov %rsp,%rbp`, then pushes of callee-saved registers and
 * `sub $N,%rsp`, so rbp = SP at the call + 8 * pushes + N. The candidate is
 * kept only if the frame record it points at holds a return address that
 * follows a call instruction, and a direct call there targets this very
 * function (through the PLT too). When the prologue does not decode (alloca,
 * realignment), the stack is searched upward for a frame record whose return
 * address follows a direct call of this function; nothing weaker is taken,
 * so a doubt ends the walk rather than guessing. Code is read with checked
 * reads (process_vm_readv on ourselves). */
static int read_code(uintptr_t addr, void *dst, size_t n)
{
    struct iovec l = {dst, n}, r = {(void *)addr, n};
    return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : INTROSPECT_ESYS;
}

/* Length of a ModRM operand (ModRM byte, SIB, displacement) at c, or 0. */
static size_t modrm_len(const uint8_t *c)
{
    uint8_t m = c[0], mod = m >> 6, rm = m & 7;
    size_t n = 1;
    if (mod != 3 && rm == 4)
        n++; /* SIB */
    if (mod == 0 && rm == 5)
        return n + 4; /* rip-relative */
    if (mod == 0 && rm == 4 && (c[1] & 7) == 5)
        return n + 4; /* SIB without base */
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n;
}

/* Decode a function's prologue from its entry: `push %rbp`, `mov %rsp,%rbp`,
 * pushes of callee-saved registers and `sub $N,%rsp`, with the compiler's
 * scheduled instructions in between (moves, lea, xor, stores, the stack
 * protector's load) skipped by length. Stops at the first call, jump or
 * return. Returns the distance from the SP after the prologue to rbp, or -1
 * when anything else touches rsp or an instruction is not understood. */
static long prologue_frame(uintptr_t fn)
{
    uint8_t c[96 + 16];
    if (read_code(fn, c, sizeof c))
        return -1;
    size_t i = 0;
    int saw_push_rbp = 0, saw_mov = 0;
    long pushes = 0, sub = 0;
    while (i < 96) {
        size_t at = i;
        uint8_t rex = 0;
        if (c[i] == 0xf3 && c[i + 1] == 0x0f && c[i + 2] == 0x1e && c[i + 3] == 0xfa) {
            i += 4; /* endbr64 */
            continue;
        }
        int p66 = 0, seg = 0, rep = 0;
        while (c[i] == 0x66 || c[i] == 0x64 || c[i] == 0x65 || c[i] == 0xf3 || c[i] == 0xf2 ||
               c[i] == 0xf0) {
            p66 |= c[i] == 0x66;
            seg |= c[i] == 0x64 || c[i] == 0x65;
            rep |= c[i] == 0xf3 || c[i] == 0xf2;
            i++;
        }
        if ((c[i] & 0xf0) == 0x40)
            rex = c[i++];
        uint8_t op = c[i++];
        (void)seg;
        if (op >= 0x50 && op <= 0x57 && !p66) { /* push reg */
            int reg = (op & 7) | ((rex & 1) << 3);
            if (reg == 4)
                return -1;
            if (reg == 5 && !saw_push_rbp) {
                saw_push_rbp = 1;
                continue;
            }
            if (!saw_mov)
                return -1;
            pushes++;
            continue;
        }
        /* Shrink-wrapped functions test and branch before their prologue:
         * conditional jumps are stepped over (the prologue is on the
         * fall-through path GCC lays out first). */
        if (op >= 0x70 && op <= 0x7f) {
            i += 1;
            continue;
        }
        if (op == 0x0f && c[i] >= 0x80 && c[i] <= 0x8f) {
            i += 5;
            continue;
        }
        if (op == 0x80 || op == 0xc6 || (op == 0xf6 && ((c[i] >> 3) & 7) == 0)) { /* imm8 forms */
            if ((c[i] >> 6) == 3 && ((c[i] & 7) == 4 || (c[i] & 7) == 5))
                return -1;
            i += modrm_len(c + i) + 1;
            continue;
        }
        if (op == 0x3d || op == 0xa9) { /* cmp/test $imm32,%eax */
            i += 4;
            continue;
        }
        if (op == 0x90)
            continue; /* nop */
        if (op == 0x3c || op == 0xa8) {
            i += 1;
            continue;
        }
        if (op == 0x89 || op == 0x8b) { /* mov r/m */
            uint8_t m = c[i];
            if (op == 0x89 && (rex & 8) && m == 0xe5 && saw_push_rbp && !saw_mov) { /* mov %rsp,%rbp */
                saw_mov = 1;
                i++;
                continue;
            }
            int dst = op == 0x89 ? ((m & 7) | ((rex & 1) << 3)) : (((m >> 3) & 7) | ((rex & 4) << 1));
            if ((m >> 6) == 3 || op == 0x8b)
                if (dst == 4 || dst == 5)
                    return -1; /* writes rsp or rbp */
            i += modrm_len(c + i);
            continue;
        }
        if (op == 0x83 || op == 0x81) { /* arithmetic with an immediate */
            uint8_t m = c[i];
            size_t imm = op == 0x83 ? 1 : 4;
            if (m == 0xec && (rex & 8)) { /* sub $imm,%rsp */
                if (!saw_mov || sub)
                    return -1;
                if (op == 0x83) {
                    sub = c[i + 1];
                } else {
                    int32_t x;
                    memcpy(&x, c + i + 1, 4);
                    if (x < 0)
                        return -1;
                    sub = x;
                }
                i += 1 + imm;
                continue;
            }
            if ((m >> 6) == 3 && ((m & 7) == 4 || (m & 7) == 5) && !(rex & 1))
                return -1; /* other arithmetic on rsp/rbp (and $-16: realignment) */
            i += modrm_len(c + i) + imm;
            continue;
        }
        if (op == 0x31 || op == 0x33 || op == 0x01 || op == 0x03 || op == 0x29 || op == 0x2b ||
            op == 0x85 || op == 0x39 || op == 0x3b || op == 0x63 || op == 0x88 || op == 0x8a ||
            op == 0x09 || op == 0x0b || op == 0x21 || op == 0x23) {
            uint8_t m = c[i];
            int dst = (m & 7) | ((rex & 1) << 3), dst2 = ((m >> 3) & 7) | ((rex & 4) << 1);
            if (((m >> 6) == 3 && (dst == 4 || dst == 5)) ||
                ((op & 2) && (dst2 == 4 || dst2 == 5) && op != 0x85 && op != 0x3b))
                return -1;
            i += modrm_len(c + i);
            continue;
        }
        if (op == 0x8d) { /* lea */
            uint8_t m = c[i];
            int dst = ((m >> 3) & 7) | ((rex & 4) << 1);
            if (dst == 4 || dst == 5)
                return -1;
            i += modrm_len(c + i);
            continue;
        }
        if (op >= 0xb8 && op <= 0xbf) { /* mov $imm,%reg */
            int dst = (op & 7) | ((rex & 1) << 3);
            if (dst == 4 || dst == 5)
                return -1;
            i += (rex & 8) ? 8 : 4;
            continue;
        }
        if (op == 0xc7 && ((c[i] >> 3) & 7) == 0) { /* mov $imm32,r/m */
            if ((c[i] >> 6) == 3 && ((c[i] & 7) == 4 || (c[i] & 7) == 5) && !(rex & 1))
                return -1;
            i += modrm_len(c + i) + (p66 ? 2 : 4);
            continue;
        }
        if (op == 0x0f) { /* SSE moves, movzx/movsx, xorps/pxor: never write rsp */
            uint8_t op2 = c[i++];
            if (op2 == 0x10 || op2 == 0x11 || op2 == 0x28 || op2 == 0x29 || op2 == 0x57 ||
                op2 == 0xef || op2 == 0x6f || op2 == 0x7f || op2 == 0xd6 || op2 == 0x7e ||
                op2 == 0x6e || op2 == 0x16 || op2 == 0x17 || op2 == 0x12 || op2 == 0x13) {
                i += modrm_len(c + i);
                continue;
            }
            if (op2 == 0x1f || op2 == 0x18) { /* multi-byte nop, prefetch */
                i += modrm_len(c + i);
                continue;
            }
            if (op2 == 0xb6 || op2 == 0xb7 || op2 == 0xbe || op2 == 0xbf) {
                int dst = ((c[i] >> 3) & 7) | ((rex & 4) << 1);
                if (dst == 4 || dst == 5)
                    return -1;
                i += modrm_len(c + i);
                continue;
            }
            return -1;
        }
        (void)rep;
        (void)at;
        /* call, jump, return or anything not understood: the prologue ends here */
        i = at;
        break;
    }
    if (!saw_push_rbp || !saw_mov)
        return -1;
    return 8 * pushes + sub;
}

/* Where a PLT entry at addr jumps (`jmp *GOT(%rip)`, optionally after
 * endbr64 / bnd), or 0. */
static uintptr_t plt_target(uintptr_t addr)
{
    uint8_t c[16];
    if (read_code(addr, c, sizeof c))
        return 0;
    size_t i = 0;
    if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
        i = 4;
    if (c[i] == 0xf2) /* bnd */
        i++;
    if (c[i] != 0xff || c[i + 1] != 0x25)
        return 0;
    int32_t d;
    memcpy(&d, c + i + 2, 4);
    uintptr_t got = addr + i + 6 + (uintptr_t)(intptr_t)d, to;
    if (read_code(got, &to, sizeof to))
        return 0;
    return to;
}

/* What the instruction before return address ra is. */
enum { CALL_NONE, CALL_DIRECT_HIT, CALL_DIRECT_MISS, CALL_INDIRECT };
static int call_before(uintptr_t ra, uintptr_t fn)
{
    uint8_t c[7];
    if (ra < 7 || read_code(ra - 7, c, sizeof c))
        return CALL_NONE;
    if (c[2] == 0xe8) { /* call rel32 */
        int32_t d;
        memcpy(&d, c + 3, 4);
        uintptr_t to = ra + (uintptr_t)(intptr_t)d;
        if (to == fn || plt_target(to) == fn)
            return CALL_DIRECT_HIT;
        return CALL_DIRECT_MISS;
    }
    if (c[1] == 0xff && c[2] == 0x15) { /* call *disp32(%rip) (-fno-plt) */
        int32_t d;
        uintptr_t to;
        memcpy(&d, c + 3, 4);
        if (read_code(ra + (uintptr_t)(intptr_t)d, &to, sizeof to) == 0 && to == fn)
            return CALL_DIRECT_HIT;
        return CALL_DIRECT_MISS;
    }
    /* call *%reg, call *(%reg), call *d8(%reg), call *d32(%reg), with REX */
    if ((c[5] == 0xff && (c[6] & 0xf8) == 0xd0) || (c[5] == 0xff && (c[6] & 0xf8) == 0x10) ||
        (c[4] == 0xff && (c[5] & 0xf8) == 0x50) || (c[1] == 0xff && (c[2] & 0xf8) == 0x90) ||
        (c[4] == 0xff && c[5] == 0x14) || (c[3] == 0xff && c[4] == 0x54))
        return CALL_INDIRECT;
    return CALL_NONE;
}

/* The entry of the function containing pc (its FDE's first row), or 0. */
static uintptr_t function_entry(const struct ix_urow *r, const struct ix_uobject *o)
{
    if (!o || r < o->rows || r >= o->rows + o->nrows)
        return 0;
    for (int k = 0; k < 4096 && r >= o->rows; k++, r--) {
        if (r->flags & IX_UROW_NOINFO)
            return 0;
        if (r->flags & IX_UROW_FDE_START)
            return o->base + r->pc;
    }
    return 0;
}

static int plausible_ra(const struct ix_usnapshot *s, uintptr_t ra)
{
    const struct ix_uobject *o = NULL;
    const struct ix_urow *r = ra >= 4096 ? ix_unwind_lookup(s, ra - 1, &o) : NULL;
    return r && !(r->flags & IX_UROW_NOINFO);
}

#define FP_SEARCH (16u << 10)

static int recover_fp(const struct ix_usnapshot *s, struct stack_view *v,
                      const struct ix_urow *r, const struct ix_uobject *o, uintptr_t sp,
                      uintptr_t *fp)
{
    if (!v->copy || r->cfa_off != 16 || r->rbp_off != -16)
        return -1; /* only the standard frame record: CFA = rbp + 16, rbp saved at rbp */
    uintptr_t fn = function_entry(r, o), ra;
    if (!fn)
        return -1;
    long frame = prologue_frame(fn);
    if (frame >= 0 && read_slot(v, sp + (uintptr_t)frame + 8, &ra) == 0 && plausible_ra(s, ra)) {
        int k = call_before(ra, fn);
        if (k == CALL_DIRECT_HIT || k == CALL_INDIRECT) {
            *fp = sp + (uintptr_t)frame;
            return 0;
        }
    }
    v->ran_out = 0;
    for (uintptr_t p = sp; p - sp < FP_SEARCH; p += 8) {
        if (read_slot(v, p + 8, &ra))
            break;
        if (plausible_ra(s, ra) && call_before(ra, fn) == CALL_DIRECT_HIT) {
            *fp = p;
            return 0;
        }
    }
    v->ran_out = 0;
    return -1;
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
    v->end = IX_WALK_MAX;
    while (n < max) {
        uintptr_t cfa, ra;
        const struct ix_urow *r = ix_unwind_lookup(s, n == 1 ? pc : pc - 1, &obj);
        if (!r || (r->flags & (IX_UROW_NOINFO | IX_UROW_UNKNOWN | IX_UROW_OUTERMOST))) {
            v->end = r && (r->flags & IX_UROW_OUTERMOST) ? IX_WALK_ROOT : IX_WALK_NO_INFO;
            break;
        }
        if ((r->flags & IX_UROW_RBP_CFA) && !fp && recover_fp(s, v, r, obj, sp, &fp) == 0)
            v->recovered++;
        if (r->flags & IX_UROW_RBP_CFA) {
            if (fp < sp || fp - sp > MAX_FRAME) {
                v->end = fp ? IX_WALK_BAD : IX_WALK_NO_FP;
                break;
            }
            cfa = fp + (uintptr_t)(intptr_t)r->cfa_off;
        } else {
            cfa = sp + (uintptr_t)(intptr_t)r->cfa_off;
        }
        if (cfa <= sp || cfa - sp > MAX_FRAME || (cfa & 7) || read_slot(v, cfa - 8, &ra)) {
            v->end = v->ran_out ? IX_WALK_COPY_END : IX_WALK_BAD;
            break;
        }
        if (r->rbp_off != IX_UROW_NO_RBP &&
            read_slot(v, cfa + (uintptr_t)(intptr_t)r->rbp_off, &fp)) {
            v->end = IX_WALK_COPY_END;
            break;
        }
        sp = cfa;
        pc = ra;
        if (pc < 4096) {
            v->end = IX_WALK_ROOT; /* a zero return address ends some stacks */
            break;
        }
        pcs[n++] = pc;
    }
    return n;
}

int ix_unwind_copy_end(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                       uintptr_t *pcs, int max, int *end)
{
    *end = IX_WALK_MAX;
    if (max <= 0)
        return 0;
    const struct ix_usnapshot *snap = ix_unwind_tables_current();
    struct stack_view v = {stack, sp, len, 0, IX_WALK_MAX, 0};
    if (snap && stack && len) {
        int n = fast_walk(snap, &v, pc, sp, fp, pcs, max);
        *end = v.end;
        return n;
    }
    *end = IX_WALK_NO_INFO;
    pcs[0] = pc + 1;
    return 1;
}

int ix_unwind_copy(uintptr_t pc, uintptr_t sp, uintptr_t fp, const void *stack, size_t len,
                   uintptr_t *pcs, int max, int *status)
{
    int end;
    int n = ix_unwind_copy_end(pc, sp, fp, stack, len, pcs, max, &end);
    *status = (end == IX_WALK_COPY_END ? IX_COPY_CUT : 0) | (end == IX_WALK_ROOT ? IX_COPY_ROOT : 0);
    return n;
}

int ix_unwind_signal(const void *ucontext, uintptr_t *pcs, int max)
{
    if (max <= 0 || !ucontext)
        return 0;
    const ucontext_t *uc = ucontext;
    const struct ix_usnapshot *snap = ix_unwind_tables_current();
    if (snap) {
        struct stack_view live = {NULL, 0, 0, 0, IX_WALK_MAX, 0};
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
