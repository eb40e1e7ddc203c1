#include "symbolize/dwarf_frames.h"
#include "introspect.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/cu_aranges.h"
#include "symbolize/dwarf_open.h"
#include "symbolize/elfutils_lib.h"
#include "symbolize/lines.h"
#include "symbolize/scopes.h"
#include "util/bsearch.h"
#include "util/grow.h"
#include "util/u64map.h"

enum { LINES_UNREAD, LINES_OURS, LINES_LIBDW };
enum { DIE_READ, DIE_UNREAD, DIE_BAD };

struct cu {
    Dwarf_Die die;   /* read at the CU's first lookup when indexed from aranges */
    Dwarf_Off die_off;
    int die_state;   /* DIE_READ, DIE_UNREAD (die_off), DIE_BAD */
    struct ix_scope_tree tree;
    struct ix_line_table lines; /* symbolize/lines.h, read at the CU's first lookup */
    int built;
    int lines_from;
};

struct cu_range {
    uint64_t lo, hi;
    size_t cu;
};

struct ix_dwarf_frames {
    struct ix_dwarf_file file; /* ours, when opened lean; else libdwfl's Dwarf */
    Dwarf *dw;                 /* file.dw or libdwfl's */
    Dwarf_Addr bias;
    struct ix_line_sections sec;
    int sec_read; /* sec looked up: 1 found, -1 not usable (every CU asks libdw) */
    struct cu *cus;
    size_t ncus;
    struct cu_range *ranges; /* sorted by lo */
    size_t nranges;
};

static int by_lo(const void *a, const void *b)
{
    const struct cu_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int add_cu(struct ix_dwarf_frames *d, Dwarf_Die *die, size_t *cap, size_t *rcap)
{
    if (ix_grow(&d->cus, cap, d->ncus + 1, sizeof *d->cus))
        return INTROSPECT_ENOMEM;
    d->cus[d->ncus] = (struct cu){.die = *die};
    Dwarf_Addr base, lo, hi;
    for (ptrdiff_t off = 0; (off = ix_dw.dwarf_ranges(die, off, &base, &lo, &hi)) > 0;) {
        if (lo >= hi)
            continue;
        if (ix_grow(&d->ranges, rcap, d->nranges + 1, sizeof *d->ranges))
            return INTROSPECT_ENOMEM;
        d->ranges[d->nranges++] = (struct cu_range){lo, hi, d->ncus};
    }
    d->ncus++;
    return 0;
}

static void add_cus_lean(struct ix_dwarf_frames *d, size_t *cap, size_t *rcap)
{
    size_t hsize;
    for (Dwarf_Off off = 0, next; ix_dw.dwarf_nextcu(d->file.dw, off, &next, &hsize, NULL, NULL,
                                                     NULL) == 0;
         off = next) {
        Dwarf_Die die;
        if (ix_dw.dwarf_offdie(d->file.dw, off + hsize, &die) && add_cu(d, &die, cap, rcap))
            return;
    }
}

/* The CU index from .debug_aranges (symbolize/cu_aranges.h): no DIE read
 * until an address falls into its CU. Returns 0, or -1 (d untouched). */
static int add_cus_from_aranges(struct ix_dwarf_frames *d)
{
    struct ix_cu_arange *ar;
    size_t n, cap = 0;
    if (ix_cu_aranges(d->dw, &ar, &n))
        return -1;
    struct ix_u64map seen = {0}; /* DIE offset -> CU index + 1 */
    struct cu_range *ranges = malloc(n * sizeof *ranges);
    int rc = ranges ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int added;
        uint64_t *slot = ix_u64map_put(&seen, ar[i].die, &added);
        if (!slot || (added && ix_grow(&d->cus, &cap, d->ncus + 1, sizeof *d->cus))) {
            rc = -1;
            break;
        }
        if (added) {
            d->cus[d->ncus] = (struct cu){.die_off = ar[i].die, .die_state = DIE_UNREAD};
            *slot = ++d->ncus;
        }
        ranges[i] = (struct cu_range){ar[i].lo, ar[i].hi, (size_t)*slot - 1};
    }
    ix_u64map_free(&seen);
    free(ar);
    if (rc) {
        free(ranges);
        free(d->cus);
        d->cus = NULL;
        d->ncus = 0;
        return -1;
    }
    d->ranges = ranges; /* sorted already */
    d->nranges = n;
    return 0;
}

struct ix_dwarf_frames *ix_dwarf_frames_new(Dwfl_Module *mod)
{
    struct ix_dwarf_frames *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    size_t cap = 0, rcap = 0;
    if ((d->dw = ix_dwarf_open_lean(mod, &d->bias, &d->file))) {
        if (add_cus_from_aranges(d))
            add_cus_lean(d, &cap, &rcap);
    } else {
        Dwarf_Addr bias;
        if (!(d->dw = ix_dw.dwfl_module_getdwarf(mod, &bias))) {
            free(d);
            return NULL;
        }
        d->bias = bias;
        Dwarf_Die *die = NULL;
        if (add_cus_from_aranges(d) == 0)
            return d;
        while ((die = ix_dw.dwfl_module_nextcu(mod, die, &bias)))
            if (add_cu(d, die, &cap, &rcap))
                break;
    }
    if (d->nranges > 1)
        qsort(d->ranges, d->nranges, sizeof *d->ranges, by_lo);
    return d;
}

void ix_dwarf_frames_free(struct ix_dwarf_frames *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ncus; i++) {
        ix_scope_tree_free(&d->cus[i].tree);
        ix_line_table_free(&d->cus[i].lines);
    }
    free(d->cus);
    free(d->ranges);
    ix_dwarf_file_close(&d->file); /* after the trees: they point into it */
    free(d);
}

static struct cu *find_cu(struct ix_dwarf_frames *d, uint64_t a)
{
    size_t lo = ix_upper_bound(d->ranges, d->nranges, sizeof *d->ranges, a);
    struct cu *cu = NULL;
    for (size_t i = lo; i-- > 0 && lo - i <= 8 && !cu;) /* CU ranges rarely overlap */
        if (a < d->ranges[i].hi)
            cu = &d->cus[d->ranges[i].cu];
    if (cu && cu->die_state == DIE_UNREAD)
        cu->die_state = ix_dw.dwarf_offdie(d->dw, cu->die_off, &cu->die) ? DIE_READ : DIE_BAD;
    return cu && cu->die_state == DIE_READ ? cu : NULL;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = ix_dw.dwarf_formstring(ix_dw.dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    if (!n)
        n = ix_dw.dwarf_formstring(ix_dw.dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
    return n ? n : ix_dw.dwarf_diename(die);
}

/* Whether the CU's line table is ours (decoded on first use), else libdw
 * answers for it: the object's sections were not usable, or the decoder
 * refused the CU's program (malformed, or a form it does not read). */
static int own_lines(struct ix_dwarf_frames *d, struct cu *cu)
{
    if (cu->lines_from != LINES_UNREAD)
        return cu->lines_from == LINES_OURS;
    if (!d->sec_read) {
        Elf *elf = d->file.elf ? d->file.elf : ix_dw.dwarf_getelf(d->dw);
        d->sec_read = elf && ix_line_sections_get(elf, &d->sec) == 0 ? 1 : -1;
    }
    cu->lines_from = d->sec_read > 0 && ix_line_table_of_cu(&d->sec, &cu->die, &cu->lines) == 0
                         ? LINES_OURS
                         : LINES_LIBDW;
    return cu->lines_from == LINES_OURS;
}

/* File and line of a (a DWARF address); line 0 when the file is unknown. */
static const char *cu_line(struct ix_dwarf_frames *d, struct cu *cu, uint64_t a, int *line)
{
    const char *file = NULL;
    *line = 0;
    if (own_lines(d, cu)) {
        if (!ix_line_table_find(&cu->lines, a, &file, line) || !file)
            *line = 0;
        return file;
    }
    Dwarf_Line *l = ix_dw.dwarf_getsrc_die(&cu->die, a);
    if (l && (file = ix_dw.dwarf_linesrc(l, NULL, NULL)))
        ix_dw.dwarf_lineno(l, line);
    return file;
}

static const char *call_file(struct cu *cu, Dwarf_Die *inl)
{
    Dwarf_Attribute a;
    Dwarf_Word idx;
    Dwarf_Files *files;
    size_t nfiles;
    if (ix_dw.dwarf_formudata(ix_dw.dwarf_attr(inl, DW_AT_call_file, &a), &idx))
        return NULL;
    if (cu->lines_from == LINES_OURS)
        return ix_line_table_file(&cu->lines, idx);
    if (ix_dw.dwarf_getsrcfiles(&cu->die, &files, &nfiles) || idx >= nfiles)
        return NULL;
    return ix_dw.dwarf_filesrc(files, idx, NULL, NULL);
}

static int call_line(Dwarf_Die *inl)
{
    Dwarf_Attribute a;
    Dwarf_Word line;
    if (ix_dw.dwarf_formudata(ix_dw.dwarf_attr(inl, DW_AT_call_line, &a), &line))
        return 0;
    return (int)line;
}

/* From the innermost scope out: each inlined instance is a frame at the
 * current position, and its call site becomes the position in the next
 * outer frame; the enclosing subprogram ends the chain. */
int ix_dwarf_frames_lookup(struct ix_dwarf_frames *d, uint64_t vaddr, const char *symname,
                           struct ix_sym_line *lines, int max)
{
    uint64_t a = vaddr - d->bias;
    struct cu *cu = find_cu(d, a);
    if (!cu || max <= 0)
        return 0;
    if (!cu->built) {
        cu->built = 1;
        ix_scope_tree_build(&cu->die, &cu->tree);
    }
    int line;
    const char *file = cu_line(d, cu, a, &line);
    int n = 0;
    for (int32_t s = ix_scope_tree_find(&cu->tree, a); s >= 0 && n < max;) {
        struct ix_scope *sc = &cu->tree.scopes[s];
        if (!sc->is_inline) {
            const char *name = symname ? symname : die_name(&sc->die);
            lines[n++] = (struct ix_sym_line){name ? name : "??", file, line};
            break;
        }
        const char *name = die_name(&sc->die);
        lines[n++] = (struct ix_sym_line){name ? name : "??", file, line};
        file = call_file(cu, &sc->die);
        line = call_line(&sc->die);
        s = sc->parent;
    }
    if (n == 0 && symname) /* no function DIE here (assembly): symbol + line table */
        lines[n++] = (struct ix_sym_line){symname, file, line};
    return n;
}
