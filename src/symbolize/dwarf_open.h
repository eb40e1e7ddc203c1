/* An object's DWARF opened by us rather than by libdwfl, so that the
 * sections symbolization never reads are not decompressed.
 *
 * libdw (0.188) inflates every compressed debug section when it opens a
 * file. In Debian's debug files (libc6-dbg) the location lists alone are a
 * seventh of a cold profile's instructions, and symbolization reads only
 * units, abbreviations, strings, ranges and line tables. Here the file that
 * libdwfl found (the separate debug file, else the object) is mapped
 * privately, the unread sections are marked SHT_NOBITS in that private
 * copy of the section headers (libdw skips them), and libdw opens the rest.
 * The compressed sections it reads are inflated here with libdeflate when
 * installed (2-3x faster than the zlib libelf uses) and handed to libdw as
 * plain sections.
 * Any doubt (no path, a layout other than the object's, DWARF shared with
 * a dwz supplementary file, no DWARF) returns NULL and the caller uses
 * libdwfl's own Dwarf. */
#ifndef IX_DWARF_OPEN_H
#define IX_DWARF_OPEN_H

#include <elfutils/libdwfl.h>

#define IX_DWARF_MAX_INFLATED 16

struct ix_dwarf_file {
    Dwarf *dw;
    Elf *elf;
    int fd;
    void *inflated[IX_DWARF_MAX_INFLATED]; /* sections we inflated (libdeflate) */
    int ninflated;
};

/* Opens mod's DWARF into f and sets *bias (module address = DWARF address
 * + bias). Returns f->dw, or NULL with f empty. */
Dwarf *ix_dwarf_open_lean(Dwfl_Module *mod, Dwarf_Addr *bias, struct ix_dwarf_file *f);
void ix_dwarf_file_close(struct ix_dwarf_file *f);
/* elf's first section called name, its header in *sh; NULL when none. */
Elf_Scn *ix_elf_section(Elf *elf, const char *name, GElf_Shdr *sh);

#endif
