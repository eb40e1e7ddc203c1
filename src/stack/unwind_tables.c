/* Unwind tables from .eh_frame (see stack/unwind_tables.h). Runs on the profiling
 * thread only: allocates, parses, sorts; the handler reads the result. */
#include "stack/unwind_tables.h"
#include "host/release.h"
#include "host/threads.h"
#include "util/clock.h"

#include <link.h>
#include <stdatomic.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "introspect.h"

enum { DWREG_RBP = 6, DWREG_RSP = 7, DWREG_RA = 16 };
enum { RULE_SAME, RULE_OFFSET, RULE_UNDEF, RULE_OTHER };

struct cfa_state {
    int cfa_reg;
    int64_t cfa_off;
    int cfa_expr;
    int rbp_rule, ra_rule;
    int64_t rbp_off, ra_off;
};

struct rowbuf {
    struct ix_urow *v;
    size_t n, cap;
    int oom;
};

/* Row tables are kept for the life of the process, one per distinct loaded
 * object (same address range and name), so an object that is dlclosed and
 * dlopened again in a loop is parsed once and memory stays bounded.
 * Snapshots (the small per-moment object arrays) are replaced when objects
 * come or go; a replaced one is freed only after a grace period, since a
 * handler on another thread may still be walking with it (a walk takes
 * microseconds). Only one thread (the profiler's) calls update. */
#define GRACE_NS 10000000000LL

struct built {
    struct built *next;
    char *name;
    struct ix_uobject obj; /* what every snapshot of this object copies */
};

struct retired {
    struct retired *next;
    struct ix_usnapshot *snap; /* or NULL */
    struct built *built;       /* rows dropped when idle, or NULL */
    long long when;
};

static struct built *g_built;
static struct retired *g_retired;
static const struct ix_usnapshot *_Atomic g_current;
static unsigned long long g_adds = ~0ULL, g_subs = ~0ULL;
static pthread_mutex_t g_update_lock = PTHREAD_MUTEX_INITIALIZER;

/* Holders and the idle drop. Handlers walk with the tables only while
 * something samples: a CPU profile, a trace, the off-CPU sampler, a thread
 * dump. The rows are a few MB (redis-server: 31 objects, 377k rows, 5.3 MB),
 * so once the last holder has been gone for INTROSPECT_UNWIND_IDLE_S seconds
 * (default 30; 0 keeps them for good) a module thread unpublishes them,
 * waits out the grace period, frees every row and exits; the next holder
 * builds them again (~10 ms). All under g_update_lock. */
#define IDLE_DEFAULT_S 30
static pthread_cond_t g_idle_cv = PTHREAD_COND_INITIALIZER;
static int g_holders;
static long long g_released_at; /* ix_mono_ns() when the last holder let go */
static long long g_idle_ns = -1; /* -1: not read yet; 0: never drop */
static int g_reaper_allowed; /* between the module's start and stop */
static int g_reaper_exists, g_reaper_running, g_reaper_quit;
static pthread_t g_reaper;


/* ---- DWARF primitives ---- */
static uint64_t uleb(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    int shift = 0;
    while (*p < end) {
        uint8_t b = *(*p)++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t sleb(const uint8_t **p, const uint8_t *end)
{
    int64_t v = 0;
    int shift = 0;
    uint8_t b = 0;
    while (*p < end) {
        b = *(*p)++;
        if (shift < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    return v;
}

/* A DW_EH_PE-encoded pointer; apply=0 reads the value format only (pc_range). */
static int read_enc(const uint8_t **p, const uint8_t *end, uint8_t enc, uintptr_t datarel,
                    int apply, uintptr_t *out)
{
    const uint8_t *start = *p;
    uint64_t v;
    if (enc == 0xff) {
        *out = 0;
        return 0;
    }
    switch (enc & 0x0f) {
    case 0x00: if (end - *p < 8) return INTROSPECT_EINVAL; memcpy(&v, *p, 8); *p += 8; break;
    case 0x01: v = uleb(p, end); break;
    case 0x02: { uint16_t x; if (end - *p < 2) return INTROSPECT_EINVAL; memcpy(&x, *p, 2); *p += 2; v = x; break; }
    case 0x03: { uint32_t x; if (end - *p < 4) return INTROSPECT_EINVAL; memcpy(&x, *p, 4); *p += 4; v = x; break; }
    case 0x04: if (end - *p < 8) return INTROSPECT_EINVAL; memcpy(&v, *p, 8); *p += 8; break;
    case 0x09: v = (uint64_t)sleb(p, end); break;
    case 0x0a: { int16_t x; if (end - *p < 2) return INTROSPECT_EINVAL; memcpy(&x, *p, 2); *p += 2; v = (uint64_t)(int64_t)x; break; }
    case 0x0b: { int32_t x; if (end - *p < 4) return INTROSPECT_EINVAL; memcpy(&x, *p, 4); *p += 4; v = (uint64_t)(int64_t)x; break; }
    case 0x0c: if (end - *p < 8) return INTROSPECT_EINVAL; memcpy(&v, *p, 8); *p += 8; break;
    default: return INTROSPECT_EINVAL;
    }
    if (apply) {
        switch (enc & 0x70) {
        case 0x00: break;
        case 0x10: v += (uintptr_t)start; break;
        case 0x30: v += datarel; break;
        default: return INTROSPECT_EINVAL;
        }
        if (enc & 0x80) /* indirect: only for personality pointers, which we skip */
            return INTROSPECT_EINVAL;
    }
    *out = (uintptr_t)v;
    return 0;
}

/* ---- rows ---- */
static void emit(struct rowbuf *b, uintptr_t base, uintptr_t pc, const struct cfa_state *s,
                 uint8_t extra)
{
    if (b->oom || pc < base || pc - base > UINT32_MAX)
        return;
    struct ix_urow r = {(uint32_t)(pc - base), 0, IX_UROW_NO_RBP, extra, 0};
    if (!(extra & IX_UROW_NOINFO)) {
        if (s->cfa_expr || (s->cfa_reg != DWREG_RSP && s->cfa_reg != DWREG_RBP) ||
            s->cfa_off < INT32_MIN || s->cfa_off > INT32_MAX || s->ra_rule == RULE_OTHER ||
            s->ra_rule == RULE_SAME || (s->ra_rule == RULE_OFFSET && s->ra_off != -8) ||
            s->rbp_rule == RULE_OTHER)
            r.flags |= IX_UROW_UNKNOWN;
        if (s->ra_rule == RULE_UNDEF)
            r.flags |= IX_UROW_OUTERMOST;
        if (s->cfa_reg == DWREG_RBP)
            r.flags |= IX_UROW_RBP_CFA;
        r.cfa_off = (int32_t)s->cfa_off;
        if (s->rbp_rule == RULE_OFFSET) {
            if (s->rbp_off < INT16_MIN + 1 || s->rbp_off > INT16_MAX)
                r.flags |= IX_UROW_UNKNOWN;
            else
                r.rbp_off = (int16_t)s->rbp_off;
        }
    }
    if (b->n && b->v[b->n - 1].pc == r.pc) { /* an empty range: the later rule wins */
        b->v[b->n - 1] = r;
        return;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct ix_urow *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->oom = 1;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = r;
}

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int has_aug;
    const uint8_t *insns, *end;
};

static int parse_cie(const uint8_t *p, struct cie *c)
{
    uint32_t len;
    memcpy(&len, p, 4);
    if (len == 0 || len == 0xffffffff)
        return INTROSPECT_EINVAL;
    const uint8_t *end = p + 4 + len;
    p += 8; /* length, CIE id */
    uint8_t version = *p++;
    const char *aug = (const char *)p;
    p += strnlen(aug, (size_t)(end - p)) + 1;
    if (p >= end)
        return INTROSPECT_EINVAL;
    c->code_align = uleb(&p, end);
    c->data_align = sleb(&p, end);
    c->ra_reg = version == 1 ? *p++ : uleb(&p, end);
    c->fde_enc = 0;
    c->has_aug = aug[0] == 'z';
    if (c->has_aug) {
        uint64_t alen = uleb(&p, end);
        const uint8_t *q = p;
        for (const char *a = aug + 1; *a && q < end; a++) {
            if (*a == 'R') {
                c->fde_enc = *q++;
            } else if (*a == 'L') {
                q++;
            } else if (*a == 'P') {
                uint8_t penc = *q++;
                uintptr_t dummy;
                if (read_enc(&q, end, penc & 0x7f, 0, 0, &dummy))
                    return INTROSPECT_EINVAL;
            } else if (*a != 'S' && *a != 'B') {
                return INTROSPECT_EINVAL;
            }
        }
        p += alen;
    } else if (aug[0]) {
        return INTROSPECT_EINVAL;
    }
    c->insns = p;
    c->end = end;
    return p <= end ? 0 : INTROSPECT_EINVAL;
}

#define MAX_REMEMBER 8
#define CFA_EXPR 1     /* a DWARF expression we do not evaluate: unknown rows */
#define CFA_PLT 16     /* + threshold: binutils' lazy-PLT expression (see below) */

/* The one CFA expression worth knowing: binutils' for lazy .plt entries,
 * CFA = rsp + 8 + ((rip & 15) >= T ? 8 : 0), T = 11 (10 with IBT): inside
 * an entry the return address is on top of the stack until its push. A
 * sample in a PLT stub is common (every call into a shared library passes
 * one), and without these rows its walk would stop at the stub. */
static int plt_expression(const uint8_t *p, const uint8_t *end, uint64_t n)
{
    static const uint8_t head[] = {0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a};
    static const uint8_t tail[] = {0x2a, 0x33, 0x24, 0x22};
    if (n != 11 || end - p < 11 || memcmp(p, head, 6) || memcmp(p + 7, tail, 4))
        return CFA_EXPR;
    if (p[6] != 0x3b && p[6] != 0x3a) /* DW_OP_lit11, DW_OP_lit10 */
        return CFA_EXPR;
    return CFA_PLT + (p[6] - 0x30);
}

/* Rows for [from, to) under the PLT expression: two per 16-byte entry. */
static void emit_plt_rows(struct rowbuf *b, uintptr_t base, uintptr_t from, uintptr_t to,
                          int threshold, const struct cfa_state *s)
{
    struct cfa_state r = *s;
    r.cfa_expr = 0;
    r.cfa_reg = DWREG_RSP;
    for (uintptr_t e = from & ~(uintptr_t)15; e < to && !b->oom; e += 16) {
        r.cfa_off = 8;
        emit(b, base, e < from ? from : e, &r, 0);
        r.cfa_off = 16;
        if (e + (uintptr_t)threshold < to)
            emit(b, base, e + (uintptr_t)threshold, &r, 0);
    }
}

/* Run one CFA program; rows are emitted at each location advance when
 * `b` is set (FDE), or only the state is computed (CIE initial program). */
static void run_cfa(const uint8_t *p, const uint8_t *end, const struct cie *c,
                    struct cfa_state *s, const struct cfa_state *init, uintptr_t *loc,
                    uintptr_t pc_end, struct rowbuf *b, uintptr_t base)
{
    struct cfa_state stack[MAX_REMEMBER];
    int depth = 0;
    while (p < end && *loc < pc_end) {
        uint8_t op = *p++, hi = op & 0xc0, lo = op & 0x3f;
        uint64_t reg, adv = 0;
        int64_t off;
        if (hi == 0x40) {
            adv = lo * c->code_align;
        } else if (hi == 0x80) {
            off = (int64_t)uleb(&p, end) * c->data_align;
            if (lo == DWREG_RBP) { s->rbp_rule = RULE_OFFSET; s->rbp_off = off; }
            if (lo == DWREG_RA) { s->ra_rule = RULE_OFFSET; s->ra_off = off; }
        } else if (hi == 0xc0) {
            if (lo == DWREG_RBP) { s->rbp_rule = init->rbp_rule; s->rbp_off = init->rbp_off; }
            if (lo == DWREG_RA) { s->ra_rule = init->ra_rule; s->ra_off = init->ra_off; }
        } else {
            switch (op) {
            case 0x00: break;
            case 0x01: {
                uintptr_t nl;
                if (read_enc(&p, end, c->fde_enc, 0, 1, &nl))
                    return;
                if (b)
                    emit(b, base, *loc, s, 0);
                *loc = nl;
                continue;
            }
            case 0x02: adv = *p++ * c->code_align; break;
            case 0x03: { uint16_t x; memcpy(&x, p, 2); p += 2; adv = x * c->code_align; break; }
            case 0x04: { uint32_t x; memcpy(&x, p, 4); p += 4; adv = x * c->code_align; break; }
            case 0x05: reg = uleb(&p, end); off = (int64_t)uleb(&p, end) * c->data_align; goto set_off;
            case 0x11: reg = uleb(&p, end); off = sleb(&p, end) * c->data_align; goto set_off;
            case 0x06: reg = uleb(&p, end);
                if (reg == DWREG_RBP) { s->rbp_rule = init->rbp_rule; s->rbp_off = init->rbp_off; }
                if (reg == DWREG_RA) { s->ra_rule = init->ra_rule; s->ra_off = init->ra_off; }
                break;
            case 0x07: reg = uleb(&p, end);
                if (reg == DWREG_RBP) s->rbp_rule = RULE_UNDEF;
                if (reg == DWREG_RA) s->ra_rule = RULE_UNDEF;
                break;
            case 0x08: reg = uleb(&p, end);
                if (reg == DWREG_RBP) s->rbp_rule = RULE_SAME;
                if (reg == DWREG_RA) s->ra_rule = RULE_SAME;
                break;
            case 0x09: reg = uleb(&p, end); (void)uleb(&p, end);
                if (reg == DWREG_RBP) s->rbp_rule = RULE_OTHER;
                if (reg == DWREG_RA) s->ra_rule = RULE_OTHER;
                break;
            case 0x0a: if (depth < MAX_REMEMBER) stack[depth++] = *s; break;
            case 0x0b: if (depth > 0) *s = stack[--depth]; break;
            case 0x0c: s->cfa_reg = (int)uleb(&p, end); s->cfa_off = (int64_t)uleb(&p, end); s->cfa_expr = 0; break;
            case 0x12: s->cfa_reg = (int)uleb(&p, end); s->cfa_off = sleb(&p, end) * c->data_align; s->cfa_expr = 0; break;
            case 0x0d: s->cfa_reg = (int)uleb(&p, end); break;
            case 0x0e: s->cfa_off = (int64_t)uleb(&p, end); break;
            case 0x13: s->cfa_off = sleb(&p, end) * c->data_align; break;
            case 0x0f: { uint64_t n = uleb(&p, end);
                s->cfa_expr = plt_expression(p, end, n);
                p += n;
                break; }
            case 0x10: case 0x16: { reg = uleb(&p, end); uint64_t n = uleb(&p, end); p += n;
                if (reg == DWREG_RBP) s->rbp_rule = RULE_OTHER;
                if (reg == DWREG_RA) s->ra_rule = RULE_OTHER;
                break; }
            case 0x14: case 0x15: reg = uleb(&p, end);
                if (op == 0x14) (void)uleb(&p, end); else (void)sleb(&p, end);
                if (reg == DWREG_RBP) s->rbp_rule = RULE_OTHER;
                if (reg == DWREG_RA) s->ra_rule = RULE_OTHER;
                break;
            case 0x2e: (void)uleb(&p, end); break;
            case 0x2f: reg = uleb(&p, end); off = -(int64_t)uleb(&p, end) * c->data_align; goto set_off;
            default: /* unknown opcode: the rest of this FDE cannot be trusted */
                s->cfa_expr = 1;
                if (b) emit(b, base, *loc, s, 0);
                *loc = pc_end;
                return;
            }
        }
        if (adv) {
            if (b)
                emit(b, base, *loc, s, 0);
            *loc += adv;
        }
        continue;
    set_off:
        if (reg == DWREG_RBP) { s->rbp_rule = RULE_OFFSET; s->rbp_off = off; }
        if (reg == DWREG_RA) { s->ra_rule = RULE_OFFSET; s->ra_off = off; }
    }
}

static void parse_fde(const uint8_t *fde, uintptr_t base, struct rowbuf *b)
{
    uint32_t len, cie_off;
    memcpy(&len, fde, 4);
    if (len == 0 || len == 0xffffffff)
        return;
    const uint8_t *end = fde + 4 + len, *p = fde + 4;
    memcpy(&cie_off, p, 4);
    if (cie_off == 0) /* a CIE, not an FDE */
        return;
    struct cie c;
    if (parse_cie(p - cie_off, &c))
        return;
    p += 4;
    uintptr_t pc_begin, pc_range;
    if (read_enc(&p, end, c.fde_enc, 0, 1, &pc_begin) ||
        read_enc(&p, end, c.fde_enc & 0x0f, 0, 0, &pc_range))
        return;
    if (c.has_aug)
        p += uleb(&p, end);
    struct cfa_state init = {DWREG_RSP, 8, 0, RULE_SAME, RULE_SAME, 0, 0}, s;
    uintptr_t loc = pc_begin;
    size_t first = b->n;
    run_cfa(c.insns, c.end, &c, &init, &init, &loc, UINTPTR_MAX, NULL, base);
    s = init;
    loc = pc_begin;
    uintptr_t pc_end = pc_begin + pc_range;
    run_cfa(p, end, &c, &s, &init, &loc, pc_end, b, base);
    if (loc < pc_end && s.cfa_expr >= CFA_PLT)
        emit_plt_rows(b, base, loc, pc_end, s.cfa_expr - CFA_PLT, &s);
    else if (loc < pc_end)
        emit(b, base, loc, &s, 0);
    emit(b, base, pc_end, &s, IX_UROW_NOINFO);
    /* Mark the entry point's row: the walk of a blocked thread finds a
     * frame-pointer function's start (and prologue) through it. */
    if (first > 0)
        first--; /* the previous FDE's end marker may have been replaced by our first row */
    for (size_t i = first; !b->oom && i < b->n && i < first + 2 && pc_begin >= base; i++)
        if (b->v[i].pc == pc_begin - base && !(b->v[i].flags & IX_UROW_NOINFO)) {
            b->v[i].flags |= IX_UROW_FDE_START;
            break;
        }
}

static int cmp_row(const void *a, const void *b)
{
    const struct ix_urow *x = a, *y = b;
    if (x->pc != y->pc)
        return x->pc < y->pc ? -1 : 1;
    /* at equal pc a real row wins over a previous FDE's end marker */
    return (int)(y->flags & IX_UROW_NOINFO) - (int)(x->flags & IX_UROW_NOINFO);
}

/* Rows of one object from its .eh_frame_hdr search table. */
static int build_rows(const uint8_t *hdr, uintptr_t base, struct ix_urow **out, uint32_t *nout)
{
    if (hdr[0] != 1)
        return INTROSPECT_EINVAL;
    uint8_t ptr_enc = hdr[1], cnt_enc = hdr[2], tab_enc = hdr[3];
    const uint8_t *p = hdr + 4, *far = hdr + (1u << 30);
    uintptr_t eh_frame, count;
    if (read_enc(&p, far, ptr_enc, (uintptr_t)hdr, 1, &eh_frame) ||
        read_enc(&p, far, cnt_enc, (uintptr_t)hdr, 1, &count) || tab_enc != 0x3b)
        return INTROSPECT_EINVAL;
    struct rowbuf b = {0};
    const int32_t *tab = (const int32_t *)p;
    for (uintptr_t i = 0; i < count && !b.oom; i++)
        parse_fde(hdr + tab[2 * i + 1], base, &b);
    if (b.oom) {
        free(b.v);
        return INTROSPECT_ENOMEM;
    }
    qsort(b.v, b.n, sizeof *b.v, cmp_row);
    size_t w = 0; /* drop all but the last row of equal pcs */
    for (size_t i = 0; i < b.n; i++) {
        if (w && b.v[w - 1].pc == b.v[i].pc) {
            if (!(b.v[i].flags & IX_UROW_NOINFO))
                b.v[w - 1] = b.v[i];
            continue;
        }
        b.v[w++] = b.v[i];
    }
    *out = b.v;
    *nout = (uint32_t)w;
    return 0;
}

/* The bucket index (see struct ix_uobject): the smallest bucket of at least
 * 64 bytes of code that keeps the index no larger than the rows. Without
 * memory for it, lookups search all rows (slower, still correct). */
static void build_buckets(struct ix_uobject *o)
{
    if (o->nrows < 2)
        return;
    uint32_t first = o->rows[0].pc, span = o->rows[o->nrows - 1].pc - first, shift = 6;
    while (shift < 31 && (span >> shift) + 2 > o->nrows)
        shift++;
    uint32_t nb = (span >> shift) + 2;
    uint32_t *bucket = malloc((size_t)nb * sizeof *bucket);
    if (!bucket)
        return;
    uint32_t r = 0;
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t at = (uint64_t)first + ((uint64_t)i << shift);
        while (r + 1 < o->nrows && o->rows[r + 1].pc <= at)
            r++;
        bucket[i] = r;
    }
    o->bucket = bucket;
    o->nbuckets = nb;
    o->shift = shift;
}

/* ---- snapshots ---- */
struct scan {
    struct ix_uobject *objs;
    size_t n, cap;
    unsigned long long adds, subs;
    int oom, unchanged;
};

/* Fill o's rows and index: those of an object seen before, or freshly built
 * ones (kept). Without memory o keeps none (walks stop there). */
static void rows_for(struct ix_uobject *o, const char *name, const uint8_t *hdr)
{
    for (const struct built *b = g_built; b; b = b->next)
        if (b->obj.lo == o->lo && b->obj.hi == o->hi && b->obj.base == o->base &&
            !strcmp(b->name, name)) {
            *o = b->obj;
            return;
        }
    struct built *b = calloc(1, sizeof *b);
    if (!b || !(b->name = strdup(name))) {
        free(b);
        return;
    }
    b->obj = *o;
    struct ix_urow *rows;
    if (build_rows(hdr, o->base, &rows, &b->obj.nrows) == 0) /* else unsupported or OOM */
        b->obj.rows = rows;
    else
        b->obj.nrows = 0;
    build_buckets(&b->obj);
    b->next = g_built;
    g_built = b;
    *o = b->obj;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct scan *sc = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        sc->adds = info->dlpi_adds;
        sc->subs = info->dlpi_subs;
        /* Nothing loaded or unloaded since the last snapshot: stop at once
         * (the profiler asks every 10 ms). */
        if (sc->n == 0 && atomic_load(&g_current) && sc->adds == g_adds && sc->subs == g_subs) {
            sc->unchanged = 1;
            return 1;
        }
    }
    const uint8_t *hdr = NULL;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            if (a < lo)
                lo = a;
            if (a + ph->p_memsz > hi)
                hi = a + ph->p_memsz;
        }
    }
    if (!hdr || lo >= hi)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        struct ix_uobject *o = realloc(sc->objs, cap * sizeof *o);
        if (!o) {
            sc->oom = 1;
            return 1;
        }
        sc->objs = o;
        sc->cap = cap;
    }
    sc->objs[sc->n] = (struct ix_uobject){lo, hi, info->dlpi_addr, NULL, NULL, 0, 0, 0};
    /* Parse here, while dl_iterate_phdr holds the loader lock: once it
     * returns, another thread may dlclose the object and unmap its
     * .eh_frame. The rows are our own copies. */
    rows_for(&sc->objs[sc->n++], info->dlpi_name ? info->dlpi_name : "", hdr);
    return 0;
}

static int cmp_obj(const void *a, const void *b)
{
    const struct ix_uobject *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

static void free_built(struct built *b)
{
    while (b) {
        struct built *next = b->next;
        free((void *)b->obj.rows);
        free((void *)b->obj.bucket);
        free(b->name);
        free(b);
        b = next;
    }
}

static void free_old_snapshots(long long now)
{
    for (struct retired **r = &g_retired; *r;) {
        if (now - (*r)->when > GRACE_NS) {
            struct retired *dead = *r;
            *r = dead->next;
            if (dead->snap)
                free((void *)dead->snap->objs);
            free(dead->snap);
            free_built(dead->built);
            free(dead);
        } else {
            r = &(*r)->next;
        }
    }
}

/* Queue what a signal handler may still be walking; freed once the grace
 * period is over (free_old_snapshots). ret comes from calloc. */
static void retire(struct retired *ret, const struct ix_usnapshot *snap, struct built *built,
                   long long when)
{
    ret->snap = (struct ix_usnapshot *)snap;
    ret->built = built;
    ret->when = when;
    ret->next = g_retired;
    g_retired = ret;
}

static int publish(struct scan *sc)
{
    qsort(sc->objs, sc->n, sizeof *sc->objs, cmp_obj);
    struct ix_usnapshot *snap = malloc(sizeof *snap);
    struct retired *ret = calloc(1, sizeof *ret);
    if (!snap || !ret) {
        free(snap);
        free(ret);
        return INTROSPECT_ENOMEM;
    }
    snap->objs = sc->objs;
    snap->nobjs = (uint32_t)sc->n;
    sc->objs = NULL;
    const struct ix_usnapshot *old = atomic_exchange(&g_current, snap);
    if (old)
        retire(ret, old, NULL, ix_mono_ns());
    else
        free(ret);
    g_adds = sc->adds;
    g_subs = sc->subs;
    return 0;
}

void ix_unwind_tables_forked(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cv = PTHREAD_COND_INITIALIZER;
    g_update_lock = fresh;
    g_idle_cv = fresh_cv;
    g_holders = 0;         /* the parent's samplers did not come along */
    g_reaper_exists = g_reaper_running = 0;
}

int ix_unwind_tables_update(void)
{
    pthread_mutex_lock(&g_update_lock);
    struct scan sc = {0};
    dl_iterate_phdr(on_object, &sc);
    int rc = 0;
    if (sc.oom)
        rc = INTROSPECT_ENOMEM;
    else if (!sc.unchanged)
        rc = publish(&sc);
    free_old_snapshots(ix_mono_ns());
    free(sc.objs);
    pthread_mutex_unlock(&g_update_lock);
    return rc;
}

/* Unpublish the snapshot and set every row aside for the grace period. */
static void drop_locked(long long now)
{
    struct retired *ret = calloc(1, sizeof *ret);
    if (!ret)
        return; /* kept: dropping is only an economy */
    retire(ret, atomic_exchange(&g_current, NULL), g_built, now);
    g_built = NULL;
    g_adds = g_subs = ~0ULL; /* the next update scans every object again */
}

/* Wait on the condition until `ns` from now or a signal; CLOCK_REALTIME is
 * the condition's clock, the callers re-read the monotonic one. */
static void idle_wait(long long ns)
{
    long long until_ns = ix_real_ns() + ns;
    struct timespec until = {(time_t)(until_ns / 1000000000LL), (long)(until_ns % 1000000000LL)};
    pthread_cond_timedwait(&g_idle_cv, &g_update_lock, &until);
}

static void *idle_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_update_lock);
    while (!g_reaper_quit) {
        long long now = ix_mono_ns();
        if (g_holders) {
            pthread_cond_wait(&g_idle_cv, &g_update_lock);
        } else if (atomic_load(&g_current) && now - g_released_at < g_idle_ns) {
            idle_wait(g_idle_ns - (now - g_released_at) + 1000000);
        } else if (atomic_load(&g_current)) {
            drop_locked(now);
        } else if (g_retired) { /* dropped: free once the grace period is over */
            free_old_snapshots(now);
            if (g_retired)
                idle_wait(GRACE_NS / 2);
        } else {
            break;
        }
    }
    g_reaper_running = 0;
    pthread_mutex_unlock(&g_update_lock);
    ix_release_free_memory(); /* the rows went back to the allocator; now to the kernel */
    return NULL;
}

int ix_unwind_tables_hold(void)
{
    pthread_mutex_lock(&g_update_lock);
    g_holders++;
    pthread_mutex_unlock(&g_update_lock);
    return ix_unwind_tables_update();
}

void ix_unwind_tables_unhold(void)
{
    pthread_mutex_lock(&g_update_lock);
    if (g_idle_ns < 0) {
        const char *e = getenv("INTROSPECT_UNWIND_IDLE_S");
        long long s = e && *e ? strtoll(e, NULL, 10) : IDLE_DEFAULT_S;
        g_idle_ns = s > 0 ? s * 1000000000LL : 0;
    }
    if (g_holders > 0 && --g_holders == 0) {
        g_released_at = ix_mono_ns();
        if (g_idle_ns > 0 && g_reaper_allowed && !g_reaper_running) {
            if (g_reaper_exists) /* ended by itself: collect it (it holds no lock now) */
                pthread_join(g_reaper, NULL);
            g_reaper_exists = 0;
            if (ix_module_thread_create(&g_reaper, 0, idle_main, NULL, "introspect-unw") == 0)
                g_reaper_exists = g_reaper_running = 1;
        }
    }
    pthread_cond_broadcast(&g_idle_cv);
    pthread_mutex_unlock(&g_update_lock);
}

void ix_unwind_tables_start(void)
{
    pthread_mutex_lock(&g_update_lock);
    g_reaper_allowed = 1;
    g_reaper_quit = 0;
    pthread_mutex_unlock(&g_update_lock);
}

void ix_unwind_tables_stop(void)
{
    pthread_mutex_lock(&g_update_lock);
    g_reaper_allowed = 0;
    g_reaper_quit = 1;
    pthread_cond_broadcast(&g_idle_cv);
    int join = g_reaper_exists;
    g_reaper_exists = 0;
    pthread_mutex_unlock(&g_update_lock);
    if (join)
        pthread_join(g_reaper, NULL);
}

const struct ix_usnapshot *ix_unwind_tables_current(void)
{
    return atomic_load_explicit(&g_current, memory_order_acquire);
}

const struct ix_urow *ix_unwind_lookup(const struct ix_usnapshot *s, uintptr_t pc,
                                       const struct ix_uobject **hint)
{
    const struct ix_uobject *o = *hint;
    if (!o || pc < o->lo || pc >= o->hi) { /* callers are mostly in the callee's object */
        uint32_t lo = 0, hi = s->nobjs;
        while (lo < hi) { /* last object with lo <= pc */
            uint32_t mid = (lo + hi) / 2;
            if (s->objs[mid].lo <= pc)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            return NULL;
        o = *hint = &s->objs[lo - 1];
    }
    if (pc >= o->hi || !o->nrows || pc - o->base > UINT32_MAX)
        return NULL;
    uint32_t off = (uint32_t)(pc - o->base), lo = 0, hi = o->nrows;
    if (o->bucket) {
        uint32_t first = o->rows[0].pc;
        if (off < first)
            return NULL;
        uint32_t k = (off - first) >> o->shift;
        if (k + 1 >= o->nbuckets)
            return &o->rows[o->nrows - 1];
        lo = o->bucket[k];
        hi = o->bucket[k + 1] + 1;
    }
    while (lo < hi) { /* last row with pc <= off */
        uint32_t mid = (lo + hi) / 2;
        if (o->rows[mid].pc <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &o->rows[lo - 1] : NULL;
}
