/* File, line and inlined frames of a module's addresses from its DWARF.
 * The module's compile units are indexed by address range once: from
 * .debug_aranges when it lists every CU (symbolize/cu_aranges.h: no DIE
 * read), else from every CU's own ranges (clang emits no .debug_aranges,
 * and elfutils < 0.191 then finds no CU at all). A CU's DIE, scope tree
 * (symbolize/scopes.h) and line table (symbolize/lines.h) are read the first
 * time one of its addresses is looked up. Not thread-safe: the owner
 * serializes calls. */
#ifndef IX_DWARF_FRAMES_H
#define IX_DWARF_FRAMES_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

#include "symbolize/symbolizer.h"

struct ix_dwarf_frames;

/* NULL when the module has no DWARF (nor a separate debug file with it). */
struct ix_dwarf_frames *ix_dwarf_frames_new(Dwfl_Module *mod);
void ix_dwarf_frames_free(struct ix_dwarf_frames *d);
/* Frames at vaddr (a module address), inlined callee first; the outermost
 * frame is named symname when given (the symbol table's linkage name).
 * Returns the count, 0 when no CU covers vaddr. */
int ix_dwarf_frames_lookup(struct ix_dwarf_frames *d, uint64_t vaddr, const char *symname,
                           struct ix_sym_line *lines, int max);

#endif
