#include "symbolize/dwarf_open.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/elfutils_lib.h"

/* Debug sections symbolization never reads (names without the leading
 * ".", or ".z" of the old GNU compression). */
static int unread_section(const char *name)
{
    static const char *const names[] = {
        "debug_loc",      "debug_loclists",     "debug_macro",        "debug_macinfo",
        "debug_pubnames", "debug_pubtypes",     "debug_gnu_pubnames", "debug_gnu_pubtypes",
        "debug_frame",    "debug_names",        "debug_cu_index",     "debug_tu_index"};
    if (!name || name[0] != '.')
        return 0;
    name += name[1] == 'z' ? 2 : 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* Marks the unread sections SHT_NOBITS in elf's private copy. */
static void hide_unread(Elf *elf)
{
    size_t shstrndx;
    if (ix_dw.elf_getshdrstrndx(elf, &shstrndx))
        return;
    for (Elf_Scn *scn = NULL; (scn = ix_dw.elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!ix_dw.gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
            !unread_section(ix_dw.elf_strptr(elf, shstrndx, sh.sh_name)))
            continue;
        sh.sh_type = SHT_NOBITS;
        ix_dw.gelf_update_shdr(scn, &sh);
    }
}

/* The header of elf's section called name, or NULL. */
static GElf_Shdr *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
    size_t shstrndx;
    if (ix_dw.elf_getshdrstrndx(elf, &shstrndx))
        return NULL;
    for (Elf_Scn *scn = NULL; (scn = ix_dw.elf_nextscn(elf, scn));) {
        const char *n;
        if (ix_dw.gelf_getshdr(scn, sh) && (n = ix_dw.elf_strptr(elf, shstrndx, sh->sh_name)) &&
            strcmp(n, name) == 0)
            return sh;
    }
    return NULL;
}

/* Whether we can open elf's DWARF as libdwfl would: not when its strings
 * and DIEs are shared with a supplementary file (dwz: libdwfl finds that
 * file, we do not); not a separate debug file whose .text is not at the
 * object's address (objcopy keeps it: libdwfl's bias is then the
 * object's). */
static int usable(Elf *elf, Elf *main_elf, int separate)
{
    GElf_Shdr a, b;
    if (find_section(elf, ".gnu_debugaltlink", &a) || find_section(elf, ".debug_sup", &a))
        return 0;
    if (!separate)
        return 1;
    return find_section(elf, ".text", &a) && find_section(main_elf, ".text", &b) &&
           a.sh_addr == b.sh_addr;
}

void ix_dwarf_file_close(struct ix_dwarf_file *f)
{
    if (f->dw)
        ix_dw.dwarf_end(f->dw);
    if (f->elf)
        ix_dw.elf_end(f->elf);
    if (f->fd >= 0)
        close(f->fd);
    f->dw = NULL;
    f->elf = NULL;
    f->fd = -1;
}

Dwarf *ix_dwarf_open_lean(Dwfl_Module *mod, Dwarf_Addr *bias, struct ix_dwarf_file *f)
{
    *f = (struct ix_dwarf_file){NULL, NULL, -1};
    Dwarf_Addr main_bias;
    Elf *main_elf = ix_dw.dwfl_module_getelf(mod, &main_bias);
    const char *mainfile = NULL, *debugfile = NULL;
    if (!main_elf)
        return NULL;
    ix_dw.dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    const char *path = debugfile ? debugfile : mainfile;
    if (!path || (f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;
    f->elf = ix_dw.elf_begin(f->fd, ELF_C_READ_MMAP_PRIVATE, NULL);
    if (!f->elf || !usable(f->elf, main_elf, debugfile != NULL)) {
        ix_dwarf_file_close(f);
        return NULL;
    }
    hide_unread(f->elf);
    f->dw = ix_dw.dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
    if (!f->dw) {
        ix_dwarf_file_close(f);
        return NULL;
    }
    *bias = main_bias;
    return f->dw;
}
