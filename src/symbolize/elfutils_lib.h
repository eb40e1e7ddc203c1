#ifndef IX_SYMBOLIZE_ELFUTILS_LIB_H
#define IX_SYMBOLIZE_ELFUTILS_LIB_H

/* elfutils (libdw.so.1, libelf.so.1), loaded at the first symbolization
 * (issue 22).
 *
 * Linking them made every process that merely loads the library map libdw,
 * libelf and their compressors (liblzma, libbz2) even where nothing is ever
 * symbolized. They are dlopen'ed RTLD_LOCAL by the first object session
 * (symbolize/objects.c) and stay loaded. The headers still give the types
 * and constants; calls go through this table, typed from the headers' own
 * prototypes. If loading fails, symbolization degrades to addresses (one
 * note on stderr); nothing else depends on elfutils. */

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stddef.h>

#define IX_ELFUTILS_FUNCS(X)                                                                       \
    X(dwarf_attr)                                                                                  \
    X(dwarf_begin_elf)                                                                             \
    X(dwarf_end)                                                                                   \
    X(dwarf_nextcu)                                                                                \
    X(dwarf_offdie)                                                                                \
    X(dwarf_attr_integrate)                                                                        \
    X(dwarf_child)                                                                                 \
    X(dwarf_cu_info)                                                                               \
    X(dwarf_diename)                                                                               \
    X(dwarf_filesrc)                                                                               \
    X(dwarf_formstring)                                                                            \
    X(dwarf_formudata)                                                                             \
    X(dwarf_getelf)                                                                                \
    X(dwarf_getsrc_die)                                                                            \
    X(dwarf_getsrcfiles)                                                                           \
    X(dwarf_haschildren)                                                                           \
    X(dwarf_lineno)                                                                                \
    X(dwarf_linesrc)                                                                               \
    X(dwarf_ranges)                                                                                \
    X(dwarf_siblingof)                                                                             \
    X(dwarf_tag)                                                                                   \
    X(dwfl_begin)                                                                                  \
    X(dwfl_build_id_find_debuginfo)                                                                \
    X(dwfl_build_id_find_elf)                                                                      \
    X(dwfl_end)                                                                                    \
    X(dwfl_module_build_id)                                                                        \
    X(dwfl_module_getdwarf)                                                                        \
    X(dwfl_module_getelf)                                                                          \
    X(dwfl_module_getsym_info)                                                                     \
    X(dwfl_module_getsymtab)                                                                       \
    X(dwfl_module_info)                                                                            \
    X(dwfl_module_nextcu)                                                                          \
    X(dwfl_offline_section_address)                                                                \
    X(dwfl_report_begin)                                                                           \
    X(dwfl_report_elf)                                                                             \
    X(dwfl_report_end)                                                                             \
    X(elf_begin)                                                                                   \
    X(elf_end)                                                                                     \
    X(elf_getdata)                                                                                 \
    X(elf_getident)                                                                                \
    X(elf_getphdrnum)                                                                              \
    X(elf_getshdrstrndx)                                                                           \
    X(elf_nextscn)                                                                                 \
    X(elf_rawdata)                                                                                 \
    X(elf_strptr)                                                                                  \
    X(gelf_getclass)                                                                               \
    X(gelf_getphdr)                                                                                \
    X(gelf_getshdr)                                                                                \
    X(gelf_update_shdr)

#define IX_ELFUTILS_FIELD(name) __typeof__(name) *name;
struct ix_elfutils {
    IX_ELFUTILS_FUNCS(IX_ELFUTILS_FIELD)
};
#undef IX_ELFUTILS_FIELD

/* The table; valid once ix_elfutils_load() has returned 0. */
extern struct ix_elfutils ix_dw;

/* Loads libdw.so.1 and libelf.so.1 and resolves the table, once
 * (thread-safe; not from a signal handler). Returns 0, or INTROSPECT_ELIBRARY after writing
 * one note to stderr (the first time only). */
int ix_elfutils_load(void);

#endif
