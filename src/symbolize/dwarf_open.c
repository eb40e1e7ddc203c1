#include "symbolize/dwarf_open.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/elfutils_lib.h"
#include "util/libdeflate.h"
#include "util/pages.h"

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

Elf_Scn *ix_elf_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
    size_t shstrndx;
    if (ix_dw.elf_getshdrstrndx(elf, &shstrndx))
        return NULL;
    for (Elf_Scn *scn = NULL; (scn = ix_dw.elf_nextscn(elf, scn));) {
        const char *n;
        if (ix_dw.gelf_getshdr(scn, sh) && (n = ix_dw.elf_strptr(elf, shstrndx, sh->sh_name)) &&
            strcmp(n, name) == 0)
            return scn;
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
    if (ix_elf_section(elf, ".gnu_debugaltlink", &a) || ix_elf_section(elf, ".debug_sup", &a))
        return 0;
    if (!separate)
        return 1;
    return ix_elf_section(elf, ".text", &a) && ix_elf_section(main_elf, ".text", &b) &&
           a.sh_addr == b.sh_addr;
}

/* Point a section's data descriptor at buf. */
static void set_data(Elf_Data *d, void *buf, const Elf64_Chdr *ch)
{
    d->d_buf = buf;
    d->d_size = ch->ch_size;
    d->d_align = ch->ch_addralign;
    d->d_type = ELF_T_BYTE;
    d->d_off = 0;
}

/* Inflate one zlib-compressed (SHF_COMPRESSED) section with libdeflate and
 * make it a plain one in elf's private copy: its header loses the flag, and
 * both of libelf's descriptors of its data (the converted one libdw 0.188
 * reads with elf_getdata, the raw one later versions read) point at the
 * result. Left alone (libelf inflates it) on anything unexpected. */
static void inflate_section(struct ix_dwarf_file *f, Elf_Scn *scn, GElf_Shdr *sh,
                            const struct ix_libdeflate *ld, void *dec)
{
    Elf_Data *raw = ix_dw.elf_rawdata(scn, NULL);
    Elf_Data *data = ix_dw.elf_getdata(scn, NULL);
    Elf64_Chdr ch;
    if (!raw || !data || data != ix_dw.elf_getdata(scn, NULL) ||
        raw != ix_dw.elf_rawdata(scn, NULL) || !raw->d_buf || raw->d_size < sizeof ch ||
        f->ninflated == IX_DWARF_MAX_INFLATED)
        return;
    memcpy(&ch, raw->d_buf, sizeof ch);
    if (ch.ch_type != ELFCOMPRESS_ZLIB || ch.ch_size == 0 || ch.ch_size > ((size_t)1 << 32))
        return;
    void *buf = ix_pages_populated(ch.ch_size);
    if (!buf)
        return;
    if (ld->zlib_decompress(dec, (const char *)raw->d_buf + sizeof ch, raw->d_size - sizeof ch, buf,
                            ch.ch_size, NULL) != 0) {
        ix_pages_free(buf);
        return;
    }
    sh->sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
    sh->sh_size = ch.ch_size;
    sh->sh_addralign = ch.ch_addralign;
    if (!ix_dw.gelf_update_shdr(scn, sh)) {
        ix_pages_free(buf);
        return;
    }
    set_data(raw, buf, &ch);
    set_data(data, buf, &ch);
    f->inflated[f->ninflated++] = buf;
}

static void inflate_read_sections(struct ix_dwarf_file *f)
{
    const struct ix_libdeflate *ld = ix_libdeflate();
    size_t shstrndx;
    if (!ld || ix_dw.gelf_getclass(f->elf) != ELFCLASS64 ||
        ix_dw.elf_getshdrstrndx(f->elf, &shstrndx))
        return;
    void *dec = ld->alloc_decompressor();
    if (!dec)
        return;
    for (Elf_Scn *scn = NULL; (scn = ix_dw.elf_nextscn(f->elf, scn));) {
        GElf_Shdr sh;
        const char *name;
        if (ix_dw.gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
            (sh.sh_flags & SHF_COMPRESSED) &&
            (name = ix_dw.elf_strptr(f->elf, shstrndx, sh.sh_name)) &&
            strncmp(name, ".debug_", 7) == 0)
            inflate_section(f, scn, &sh, ld, dec);
    }
    ld->free_decompressor(dec);
}

void ix_dwarf_file_close(struct ix_dwarf_file *f)
{
    if (f->dw)
        ix_dw.dwarf_end(f->dw);
    if (f->elf)
        ix_dw.elf_end(f->elf);
    if (f->fd >= 0)
        close(f->fd);
    for (int i = 0; i < f->ninflated; i++)
        ix_pages_free(f->inflated[i]);
    *f = (struct ix_dwarf_file){.fd = -1};
}

Dwarf *ix_dwarf_open_lean(Dwfl_Module *mod, Dwarf_Addr *bias, struct ix_dwarf_file *f)
{
    *f = (struct ix_dwarf_file){.fd = -1};
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
    inflate_read_sections(f);
    f->dw = ix_dw.dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
    if (!f->dw) {
        ix_dwarf_file_close(f);
        return NULL;
    }
    *bias = main_bias;
    return f->dw;
}
