/* Which compile unit holds an address, from .debug_aranges.
 *
 * The symbolizer used to index an object's CUs by reading every CU's DIE
 * and its ranges (dwarf_ranges): for libc's debug file that parses the
 * abbreviation table and range list of all 2,063 CUs, ~40 M instructions of
 * every cold profile, to use a few of them. .debug_aranges holds the same
 * address-to-CU table ready-made, read here without touching a DIE. It
 * is used only when it lists every CU of .debug_info (a compiler or
 * assembler that emits no set for a CU would otherwise hide that CU's
 * addresses); else the caller indexes the CUs itself, as before. */
#ifndef IX_CU_ARANGES_H
#define IX_CU_ARANGES_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

struct ix_cu_arange {
    uint64_t lo, hi;  /* DWARF addresses, hi exclusive */
    Dwarf_Off die;    /* the CU's DIE, for dwarf_offdie */
};

/* dw's address ranges sorted by lo into *out (malloc'ed, *n entries), when
 * .debug_aranges covers every CU. Returns 0, or -1 (nothing allocated):
 * no or partial .debug_aranges, or out of memory. */
int ix_cu_aranges(Dwarf *dw, struct ix_cu_arange **out, size_t *n);

#endif
