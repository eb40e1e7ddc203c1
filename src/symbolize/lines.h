/* A compile unit's line table, decoded by us rather than by libdw.
 *
 * libdw (0.188) keeps a 40-byte Dwarf_Line for every row of every CU it is
 * asked about, after building a malloc'd list node per row and sorting an
 * array of pointers; in a cold profile over libc's debug file its line
 * tables were the largest block of memory (~18 MB) and a fifth of the
 * instructions. Here a CU's line-number program (DWARF 2 to 5) is decoded
 * into rows of 10 bytes (address as an offset from the CU's first, line,
 * file), without the rows that repeat the one before (GCC's column and
 * view changes: about 40% of them), and its file names into one block.
 *
 * Answers are exactly libdw's dwarf_getsrc_die + dwarf_linesrc +
 * dwarf_lineno (tests/symbols/test_symbols_lines.c compares them): rows sorted as
 * libdw sorts them (by address; at one address an end_sequence row first,
 * else program order), the last row marked end_sequence, file names joined
 * to their directory as libdw joins them. Wherever libdw rejects a program
 * the decoder rejects it too, and it also rejects what it does not know
 * (string forms other than string/strp/line_strp, over-long LEB128s, ...):
 * the caller then asks libdw, so no answer depends on this decoder being
 * complete, only on it being right when it succeeds. */
#ifndef IX_LINES_H
#define IX_LINES_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

/* Row i: address base + addr[i], line[i], file_end[i] (file index << 1 |
 * end_sequence), in libdw's order; the three arrays are one block. */
struct ix_line_table {
    uint64_t base;
    uint32_t *addr;
    int32_t *line;
    uint16_t *file_end;
    size_t nrows;
    const char **files; /* nfiles names; the block holds their bytes too */
    size_t nfiles;
};

/* The sections a line program reads (NULL/0 when absent), as plain bytes. */
struct ix_line_sections {
    const unsigned char *line, *line_str, *str;
    size_t line_size, line_str_size, str_size;
    int msb; /* big-endian file */
};

/* Decodes the line program at offset of s->line for a unit of address_size
 * (4 or 8) bytes whose DW_AT_comp_dir is comp_dir (NULL: none). Returns 0,
 * INTROSPECT_EINVAL when the program is malformed or does what this
 * decoder leaves to libdw (t then empty), or INTROSPECT_ENOMEM. */
int ix_line_table_decode(const struct ix_line_sections *s, uint64_t offset, const char *comp_dir,
                         unsigned address_size, struct ix_line_table *t);
/* The row covering addr: returns 1 and sets *file (NULL when the row names
 * no file of the table) and *line; 0 when no row covers addr. */
int ix_line_table_find(const struct ix_line_table *t, uint64_t addr, const char **file,
                       int *line);
/* File idx of the table (DW_AT_call_file, DW_AT_decl_file), NULL if none. */
const char *ix_line_table_file(const struct ix_line_table *t, uint64_t idx);
void ix_line_table_free(struct ix_line_table *t);

/* The sections as libdw uses them in elf (the Elf behind a Dwarf, whose
 * compressed debug sections were inflated when it was opened). Returns 0,
 * or INTROSPECT_EINVAL when there is no usable .debug_line. */
int ix_line_sections_get(Elf *elf, struct ix_line_sections *s);
/* Decodes the line table of the unit whose DIE is cu (its DW_AT_stmt_list,
 * DW_AT_comp_dir and address size). Returns as ix_line_table_decode, and
 * INTROSPECT_EINVAL for a split unit (libdw reads the skeleton's). */
int ix_line_table_of_cu(const struct ix_line_sections *s, Dwarf_Die *cu,
                        struct ix_line_table *t);

#endif
