#include "symbolize/scopes.h"
#include "introspect.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/elfutils_lib.h"
#include "util/bsearch.h"
#include "util/grow.h"

#define MAX_DEPTH 256 /* DIE nesting guard against malformed DWARF */
/* A CU's arrays start small: most of libc's 1,700 CUs hold one to three
 * functions, and 64 entries each (7 KB per CU) touched 12 MB in a cold
 * profile that hits them all. */
#define FIRST_CAP 4

static int push_range(struct ix_scope_range **v, size_t *n, size_t *cap,
                      struct ix_scope_range r)
{
    if (ix_grow_from(v, cap, *n + 1, sizeof **v, FIRST_CAP))
        return INTROSPECT_ENOMEM;
    (*v)[(*n)++] = r;
    return 0;
}

/* Record die as a scope under parent when it has code; returns its index,
 * or parent when it has none (abstract instances, declarations). */
static int32_t add_scope(struct ix_scope_tree *t, Dwarf_Die *die, int32_t parent, int is_inline)
{
    size_t first = t->nranges;
    int32_t me = (int32_t)t->n;
    Dwarf_Addr base, lo, hi;
    for (ptrdiff_t off = 0; (off = ix_dw.dwarf_ranges(die, off, &base, &lo, &hi)) > 0;)
        if (lo < hi && push_range(&t->ranges, &t->nranges, &t->rcap,
                                  (struct ix_scope_range){lo, hi, me}))
            return parent;
    if (t->nranges == first)
        return parent;
    if (ix_grow_from(&t->scopes, &t->cap, t->n + 1, sizeof *t->scopes, FIRST_CAP)) {
        t->nranges = first;
        return parent;
    }
    struct ix_scope *s = &t->scopes[t->n++];
    *s = (struct ix_scope){*die, (uint32_t)first, (uint32_t)(t->nranges - first), parent, -1, -1,
                           is_inline, 1};
    if (parent >= 0) {
        s->next_sibling = t->scopes[parent].first_child;
        t->scopes[parent].first_child = me;
    } else {
        for (size_t i = first; i < t->nranges; i++)
            push_range(&t->tops, &t->ntops, &t->tcap, t->ranges[i]);
    }
    return me;
}

/* DIEs whose children never hold code (parameters, call sites and their
 * arguments, enumerators, array bounds): not descended into, which skips
 * most of a function's DIEs in optimized code (libdw jumps over them with
 * DW_AT_sibling when the compiler emitted it). */
static int holds_no_code(int tag)
{
    switch (tag) {
    case DW_TAG_formal_parameter:
    case DW_TAG_variable:
    case DW_TAG_call_site:
    case DW_TAG_GNU_call_site:
    case DW_TAG_enumeration_type:
    case DW_TAG_subroutine_type:
    case DW_TAG_array_type:
    case DW_TAG_base_type:
    case DW_TAG_pointer_type:
    case DW_TAG_typedef:
    case DW_TAG_member:
        return 1;
    default:
        return 0;
    }
}

/* Lexical blocks, namespaces and classes are walked through but are not
 * scopes of their own: their code belongs to the enclosing function. */
static void walk(struct ix_scope_tree *t, Dwarf_Die *die, int32_t parent, int depth)
{
    Dwarf_Die child;
    if (depth > MAX_DEPTH || ix_dw.dwarf_child(die, &child) != 0)
        return;
    do {
        int tag = ix_dw.dwarf_tag(&child);
        int32_t me = parent;
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
            me = add_scope(t, &child, parent, tag == DW_TAG_inlined_subroutine);
        if (!holds_no_code(tag) && ix_dw.dwarf_haschildren(&child))
            walk(t, &child, me, depth + 1);
    } while (ix_dw.dwarf_siblingof(&child, &child) == 0);
}

/* The CU's level: functions are recorded with their ranges but not entered
 * (expand_scope does that for the first address that falls into one), so a
 * profile pays for the functions it hits, not for every DIE of the CU.
 * Namespaces are walked through; types are not: a member function's code
 * is a DIE of the CU or namespace level (DW_AT_specification points into
 * the class), as GCC and Clang emit it. */
static void walk_top(struct ix_scope_tree *t, Dwarf_Die *die, int depth)
{
    Dwarf_Die child;
    if (depth > MAX_DEPTH || ix_dw.dwarf_child(die, &child) != 0)
        return;
    do {
        int tag = ix_dw.dwarf_tag(&child);
        if (tag == DW_TAG_subprogram) {
            /* One without code (a declaration, or the abstract instance of
             * an inline function: most of a CU's functions in optimized
             * code) holds none either: its children are parameters,
             * variables and blocks of the abstract tree. */
            int32_t me = add_scope(t, &child, -1, 0);
            if (me >= 0)
                t->scopes[me].expanded = 0;
        } else if (tag == DW_TAG_inlined_subroutine) {
            int32_t me = add_scope(t, &child, -1, 1);
            if (ix_dw.dwarf_haschildren(&child))
                walk(t, &child, me, depth + 1);
        } else if (tag == DW_TAG_namespace && ix_dw.dwarf_haschildren(&child)) {
            walk_top(t, &child, depth + 1);
        }
    } while (ix_dw.dwarf_siblingof(&child, &child) == 0);
}

/* The inlined calls and nested functions of a top-level function, on first
 * use. walk may move t->scopes: the DIE is copied first. */
static void expand_scope(struct ix_scope_tree *t, int32_t s)
{
    if (t->scopes[s].expanded)
        return;
    t->scopes[s].expanded = 1;
    Dwarf_Die die = t->scopes[s].die;
    if (ix_dw.dwarf_haschildren(&die))
        walk(t, &die, s, 1);
}

static int by_lo(const void *a, const void *b)
{
    const struct ix_scope_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int ix_scope_tree_build(Dwarf_Die *cu, struct ix_scope_tree *t)
{
    memset(t, 0, sizeof *t);
    walk_top(t, cu, 0);
    if (t->ntops > 1) /* tops is NULL in a CU without functions (assembly) */
        qsort(t->tops, t->ntops, sizeof *t->tops, by_lo);
    return 0;
}

static int contains(const struct ix_scope_tree *t, int32_t s, uint64_t addr)
{
    const struct ix_scope *sc = &t->scopes[s];
    for (uint32_t i = 0; i < sc->nranges; i++)
        if (addr >= t->ranges[sc->ranges + i].lo && addr < t->ranges[sc->ranges + i].hi)
            return 1;
    return 0;
}

int32_t ix_scope_tree_find(struct ix_scope_tree *t, uint64_t addr)
{
    size_t lo = ix_upper_bound(t->tops, t->ntops, sizeof *t->tops, addr);
    int32_t s = -1;
    for (size_t i = lo; i-- > 0 && lo - i <= 4;) /* top-level functions rarely overlap */
        if (addr < t->tops[i].hi) {
            s = t->tops[i].scope;
            break;
        }
    if (s >= 0)
        expand_scope(t, s);
    for (int descended = s >= 0; descended;) {
        descended = 0;
        for (int32_t c = t->scopes[s].first_child; c >= 0; c = t->scopes[c].next_sibling)
            if (contains(t, c, addr)) {
                s = c;
                descended = 1;
                break;
            }
    }
    return s;
}

void ix_scope_tree_free(struct ix_scope_tree *t)
{
    free(t->scopes);
    free(t->ranges);
    free(t->tops);
    memset(t, 0, sizeof *t);
}
