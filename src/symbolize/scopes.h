/* The code scopes of one DWARF compile unit as a tree: every subprogram
 * and inlined-subroutine instance with its address ranges, children
 * (inlined calls, nested functions) under their parent. The CU's functions
 * are recorded once; each function's inner scopes when an address first
 * falls into it, so finding the inline chain of an address
 * is a binary search plus a short descent, instead of libdw's
 * dwarf_getscopes, which walks the CU from its start on every call. */
#ifndef IX_SCOPES_H
#define IX_SCOPES_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

struct ix_scope {
    Dwarf_Die die;
    uint32_t ranges, nranges; /* slice of the tree's ranges */
    int32_t parent, first_child, next_sibling; /* -1 = none */
    int is_inline;            /* DW_TAG_inlined_subroutine, else subprogram */
    int expanded;             /* children recorded (top-level functions: on first lookup) */
};

struct ix_scope_range {
    uint64_t lo, hi;
    int32_t scope;
};

struct ix_scope_tree {
    struct ix_scope *scopes;
    size_t n, cap;
    struct ix_scope_range *ranges; /* per scope, in scope order */
    size_t nranges, rcap;
    struct ix_scope_range *tops;   /* ranges of top-level scopes, sorted by lo */
    size_t ntops, tcap;
};

/* Returns 0, or INTROSPECT_ENOMEM (the tree then holds what fit). */
int ix_scope_tree_build(Dwarf_Die *cu, struct ix_scope_tree *t);
/* Innermost scope containing addr (a DWARF address), or -1. Records the
 * inner scopes of the top-level function it falls into on first use. */
int32_t ix_scope_tree_find(struct ix_scope_tree *t, uint64_t addr);
void ix_scope_tree_free(struct ix_scope_tree *t);

#endif
