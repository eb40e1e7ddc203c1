#define _GNU_SOURCE
/* The symbolizer's own DWARF readers against libdw. Line tables
 * (symbolize/lines.h) against libdw's: for every CU of
 * libc's debug file, of this test binary and of one small library per
 * line-table encoding (DWARF 2 to 5, 64-bit DWARF), the file and line of
 * every byte of the CU's code (all the symbolizer ever asks) and of each
 * row's address and its neighbours must be what dwarf_getsrc_die +
 * dwarf_linesrc + dwarf_lineno give, and the file table what
 * dwarf_getsrcfiles gives (DW_AT_call_file). Then hand-made
 * programs with known answers, and malformed ones (cut at every length,
 * mutated, random) that must fail cleanly: run it under ASan too.
 * And the CU index from .debug_aranges (symbolize/cu_aranges.h): every CU's
 * own ranges map to that CU, and an index missing a CU is not used. */
#include <dlfcn.h>
#include <dwarf.h>
#include <gnu/libc-version.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "symbolize/cu_aranges.h"
#include "symbolize/dwarf_frames.h"
#include "symbolize/dwarf_open.h"
#include "symbolize/elfutils_lib.h"
#include "symbolize/lines.h"
#include "util/random.h"

/* ---- parity with libdw ---- */

struct tally {
    const char *what;
    size_t cus, decoded, fallbacks, pcs, files, diffs;
};

static const char *or_null(const char *s) { return s ? s : "(null)"; }

static void differs(struct tally *t, Dwarf_Die *cu, uint64_t a, const char *of, int ol,
                    const char *lf, int ll)
{
    if (t->diffs++ < 8)
        fprintf(stderr, "%s: CU %s at %#llx: ours %s:%d, libdw %s:%d\n", t->what,
                or_null(ix_dw.dwarf_diename(cu)), (unsigned long long)a, or_null(of), ol,
                or_null(lf), ll);
}

static int same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* What symbolize/dwarf_frames.c reports: no line without a file. */
static void compare_pc(struct tally *t, Dwarf_Die *cu, const struct ix_line_table *lt, uint64_t a)
{
    const char *of = NULL, *lf = NULL;
    int ol = 0, ll = 0;
    if (!ix_line_table_find(lt, a, &of, &ol) || !of)
        ol = 0;
    Dwarf_Line *l = ix_dw.dwarf_getsrc_die(cu, a);
    if (l && (lf = ix_dw.dwarf_linesrc(l, NULL, NULL)))
        ix_dw.dwarf_lineno(l, &ll);
    t->pcs++;
    if (!same(of, lf) || ol != ll)
        differs(t, cu, a, of, ol, lf, ll);
}

/* The file table, one past its end included (DW_AT_call_file lookups). */
static void compare_files(struct tally *t, Dwarf_Die *cu, const struct ix_line_table *lt)
{
    Dwarf_Files *files;
    size_t n;
    if (ix_dw.dwarf_getsrcfiles(cu, &files, &n)) {
        differs(t, cu, 0, "(a table)", 0, "(none)", 0);
        return;
    }
    for (size_t i = 0; i <= n + 1; i++, t->files++) {
        const char *o = ix_line_table_file(lt, i), *l = ix_dw.dwarf_filesrc(files, i, NULL, NULL);
        if (!same(o, l))
            differs(t, cu, i, o, -1, l, -1);
    }
}

static void compare_cu(struct tally *t, const struct ix_line_sections *sec, Dwarf_Die *cu)
{
    struct ix_line_table lt;
    Dwarf_Files *files;
    size_t n;
    t->cus++;
    if (ix_line_table_of_cu(sec, cu, &lt)) {
        if (ix_dw.dwarf_getsrcfiles(cu, &files, &n) == 0 && t->fallbacks++ < 8)
            fprintf(stderr, "%s: CU %s left to libdw\n", t->what, or_null(ix_dw.dwarf_diename(cu)));
        return;
    }
    t->decoded++;
    compare_files(t, cu, &lt);
    for (size_t i = 0; i < lt.nrows; i++) {
        uint64_t a = lt.base + lt.addr[i];
        compare_pc(t, cu, &lt, a);
        if (a > 0)
            compare_pc(t, cu, &lt, a - 1);
        if (a < UINT64_MAX)
            compare_pc(t, cu, &lt, a + 1);
    }
    Dwarf_Addr base, lo, hi;
    for (ptrdiff_t off = 0; (off = ix_dw.dwarf_ranges(cu, off, &base, &lo, &hi)) > 0;)
        for (uint64_t a = lo; a < hi; a++)
            compare_pc(t, cu, &lt, a);
    ix_line_table_free(&lt);
}

/* Every unit of dw; fails on any difference, and on any CU libdw reads
 * that we left to it (these files hold nothing we should not read). */
static void compare_dwarf(Dwarf *dw, const char *what)
{
    struct ix_line_sections sec;
    ASSERT_OK(ix_line_sections_get(ix_dw.dwarf_getelf(dw), &sec));
    struct tally t = {.what = what};
    size_t hsize;
    for (Dwarf_Off off = 0, next;
         ix_dw.dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0; off = next) {
        Dwarf_Die cu;
        if (ix_dw.dwarf_offdie(dw, off + hsize, &cu))
            compare_cu(&t, &sec, &cu);
    }
    fprintf(stderr, "%s: %zu CUs, %zu decoded, %zu PCs and %zu file indexes compared, %zu differ\n",
            what, t.cus, t.decoded, t.pcs, t.files, t.diffs);
    ASSERT_EQ(t.diffs, 0);
    ASSERT_EQ(t.fallbacks, 0);
    ASSERT_GT(t.decoded, 0);
    ASSERT_GT(t.pcs, 100);
}

/* A file as the symbolizer opens it: libdwfl finds its debug file by
 * build ID under /usr/lib/debug. */
struct opened {
    Dwfl *dwfl;
    Dwfl_Module *mod;
    Dwarf *dw; /* libdwfl's */
};

static void open_dwfl(const char *path, struct opened *o)
{
    ASSERT_OK(ix_elfutils_load());
    Dwfl_Callbacks cb = {.find_elf = ix_dw.dwfl_build_id_find_elf,
                         .find_debuginfo = ix_dw.dwfl_build_id_find_debuginfo,
                         .section_address = ix_dw.dwfl_offline_section_address};
    o->dwfl = ix_dw.dwfl_begin(&cb);
    ASSERT(o->dwfl != NULL);
    ix_dw.dwfl_report_begin(o->dwfl);
    o->mod = ix_dw.dwfl_report_elf(o->dwfl, path, path, -1, 0, 0);
    ix_dw.dwfl_report_end(o->dwfl, NULL, NULL);
    ASSERT(o->mod != NULL);
    Dwarf_Addr bias;
    o->dw = ix_dw.dwfl_module_getdwarf(o->mod, &bias);
}

/* libc (not ASan's interceptors) with its debug file; skips without one. */
static const char *open_libc(struct opened *o)
{
    Dl_info info;
    ASSERT(dladdr((void *)gnu_get_libc_version, &info) && info.dli_fname);
    open_dwfl(info.dli_fname, o);
    const char *debugfile = NULL;
    ix_dw.dwfl_module_info(o->mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
    if (!o->dw || !debugfile)
        SKIP("no debug file for %s (libc6-dbg)", info.dli_fname);
    return debugfile;
}

TEST(libc_lines_match_libdw)
{
    struct opened o;
    const char *debugfile = open_libc(&o);
    /* Both ways in: libdwfl's (sections libelf inflated) and the
     * symbolizer's own (sections inflated by us, symbolize/dwarf_open.h). */
    compare_dwarf(o.dw, debugfile);
    struct ix_dwarf_file f;
    Dwarf_Addr bias;
    if (ix_dwarf_open_lean(o.mod, &bias, &f))
        compare_dwarf(f.dw, "the same, opened lean");
    ix_dwarf_file_close(&f);
    ix_dw.dwfl_end(o.dwfl);
}

TEST(own_lines_match_libdw)
{
    struct opened o;
    open_dwfl("/proc/self/exe", &o);
    ASSERT(o.dw != NULL);
    compare_dwarf(o.dw, "test binary");
    ix_dw.dwfl_end(o.dwfl);
}

/* The line-table version and whether 64-bit, of the first unit. */
static void first_unit_kind(Dwarf *dw, unsigned *version, int *is64)
{
    struct ix_line_sections sec;
    ASSERT_OK(ix_line_sections_get(ix_dw.dwarf_getelf(dw), &sec));
    ASSERT_GE(sec.line_size, 14);
    uint32_t len;
    uint16_t v;
    memcpy(&len, sec.line, 4);
    *is64 = len == 0xffffffff;
    memcpy(&v, sec.line + (*is64 ? 12 : 4), 2);
    *version = v;
}

TEST(every_encoding_matches_libdw)
{
    char *paths = strdup(IX_LINES_VARIANTS), *save = NULL;
    unsigned seen = 0; /* bit v: version v; bit 6: 64-bit */
    for (char *p = strtok_r(paths, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        struct opened o;
        open_dwfl(p, &o);
        ASSERT(o.dw != NULL);
        unsigned v;
        int is64;
        first_unit_kind(o.dw, &v, &is64);
        seen |= 1u << v | (unsigned)is64 << 6;
        compare_dwarf(o.dw, p);
        ix_dw.dwfl_end(o.dwfl);
    }
    free(paths);
    ASSERT_EQ(seen, 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6);
}

/* ---- hand-made programs ---- */

struct bytes {
    unsigned char b[1024];
    size_t n;
};

static void put(struct bytes *o, const void *p, size_t n)
{
    ASSERT_LE(o->n + n, sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void u8(struct bytes *o, unsigned v) { put(o, &(unsigned char){(unsigned char)v}, 1); }
static void u16(struct bytes *o, unsigned v) { u8(o, v & 0xff), u8(o, v >> 8); }
static void u32(struct bytes *o, uint32_t v) { u16(o, v & 0xffff), u16(o, v >> 16); }
static void u64(struct bytes *o, uint64_t v) { u32(o, (uint32_t)v), u32(o, (uint32_t)(v >> 32)); }
static void str(struct bytes *o, const char *s) { put(o, s, strlen(s) + 1); }
static void uleb(struct bytes *o, uint64_t v)
{
    do
        u8(o, (v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    while (v >>= 7);
}
static void sleb(struct bytes *o, int64_t v)
{
    for (;;) {
        unsigned b = (unsigned)v & 0x7f;
        v >>= 7; /* arithmetic shift: gcc and clang */
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            u8(o, b);
            return;
        }
        u8(o, b | 0x80);
    }
}
static void patch32(struct bytes *o, size_t at, uint32_t v) { memcpy(o->b + at, &v, 4); }

#define LINE_BASE (-5)
#define LINE_RANGE 14
#define OPCODE_BASE 13

/* Unit header through the opcode lengths; returns where header_length is. */
static size_t header(struct bytes *o, unsigned version)
{
    static const unsigned char lengths[12] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
    u32(o, 0); /* unit_length, patched */
    u16(o, version);
    if (version >= 5)
        u8(o, 8), u8(o, 0);
    size_t hl = o->n;
    u32(o, 0); /* header_length, patched */
    u8(o, 1); /* min_inst_length */
    if (version >= 4)
        u8(o, 1); /* max_ops_per_inst */
    u8(o, 1);     /* default_is_stmt */
    u8(o, (unsigned char)LINE_BASE);
    u8(o, LINE_RANGE);
    u8(o, OPCODE_BASE);
    put(o, lengths, sizeof lengths);
    return hl;
}

static void end_header(struct bytes *o, size_t hl) { patch32(o, hl, (uint32_t)(o->n - hl - 4)); }

static void set_address(struct bytes *o, uint64_t a) { u8(o, 0), u8(o, 9), u8(o, DW_LNE_set_address), u64(o, a); }
static void end_sequence(struct bytes *o) { u8(o, 0), u8(o, 1), u8(o, DW_LNE_end_sequence); }
static void special(struct bytes *o, int dline, unsigned daddr)
{
    u8(o, (unsigned)(dline - LINE_BASE) + LINE_RANGE * daddr + OPCODE_BASE);
}

/* Sequences out of address order; one ending where another starts; two
 * rows at one address; a file defined in the program; an unknown extended
 * opcode; no end_sequence at the end. */
static void program(struct bytes *o)
{
    set_address(o, 0x2000);
    u8(o, DW_LNS_copy);                  /* 0x2000 file 1 line 1 */
    special(o, 2, 0x10);                 /* 0x2010 line 3 */
    u8(o, DW_LNS_advance_pc), uleb(o, 0x10);
    end_sequence(o);                     /* 0x2020 */
    set_address(o, 0x1000);
    u8(o, DW_LNS_set_file), uleb(o, 2);
    u8(o, DW_LNS_advance_line), sleb(o, 9);
    u8(o, DW_LNS_copy);                  /* 0x1000 file 2 line 10 */
    u8(o, 0), u8(o, 4), u8(o, 0x80), u8(o, 1), u8(o, 2), u8(o, 3); /* unknown: skipped */
    u8(o, 0), u8(o, 8), u8(o, DW_LNE_define_file), str(o, "d.h"), uleb(o, 1), uleb(o, 0), uleb(o, 0);
    u8(o, DW_LNS_set_file), uleb(o, 4);
    u8(o, DW_LNS_advance_pc), uleb(o, 0x800);
    special(o, -3, 0);                   /* 0x1800 file 4 line 7 */
    u8(o, DW_LNS_advance_pc), uleb(o, 0x800);
    end_sequence(o);                     /* 0x2000: before 0x2000's row */
    set_address(o, 0x3000);
    u8(o, DW_LNS_copy);                  /* 0x3000 line 1 */
    u8(o, DW_LNS_advance_line), sleb(o, 4);
    u8(o, DW_LNS_copy);                  /* 0x3000 line 5: the later row wins */
    u8(o, DW_LNS_set_file), uleb(o, 0);
    special(o, 0, 2);                    /* 0x3002 file 0 */
    u8(o, DW_LNS_set_file), uleb(o, 9);
    special(o, 0, 2);                    /* 0x3004 file 9: none */
    u8(o, DW_LNS_set_file), uleb(o, 3);
    special(o, 0, 4);                    /* 0x3008: the last row, made an end */
}

static void unit_v4(struct bytes *o)
{
    size_t hl = header(o, 4);
    str(o, "inc"), u8(o, 0);
    str(o, "a.c"), uleb(o, 0), uleb(o, 0), uleb(o, 0);
    str(o, "b.h"), uleb(o, 1), uleb(o, 0), uleb(o, 0);
    str(o, "/abs/c.h"), uleb(o, 1), uleb(o, 0), uleb(o, 0);
    u8(o, 0);
    end_header(o, hl);
    program(o);
    patch32(o, 0, (uint32_t)(o->n - 4));
}

/* Directories by .debug_line_str offset, files by inline string, an MD5
 * column skipped. Its directory 0 is the first entry, not comp_dir. */
static const char line_str[] = "\0/cu\0sub";

static void unit_v5(struct bytes *o)
{
    size_t hl = header(o, 5);
    u8(o, 1), uleb(o, DW_LNCT_path), uleb(o, DW_FORM_line_strp);
    uleb(o, 2), u32(o, 1), u32(o, 5);
    u8(o, 3), uleb(o, DW_LNCT_path), uleb(o, DW_FORM_string);
    uleb(o, DW_LNCT_directory_index), uleb(o, DW_FORM_udata);
    uleb(o, DW_LNCT_MD5), uleb(o, DW_FORM_data16);
    static const unsigned char md5[16] = {1, 2, 3};
    uleb(o, 4);
    str(o, "x.c"), uleb(o, 0), put(o, md5, 16);
    str(o, "a.c"), uleb(o, 0), put(o, md5, 16);
    str(o, "b.h"), uleb(o, 1), put(o, md5, 16);
    str(o, "/abs/c.h"), uleb(o, 1), put(o, md5, 16);
    end_header(o, hl);
    program(o);
    patch32(o, 0, (uint32_t)(o->n - 4));
}

static int decode(const struct bytes *o, const char *comp_dir, struct ix_line_table *t)
{
    struct ix_line_sections s = {o->b, (const unsigned char *)line_str, NULL, o->n,
                                 sizeof line_str, 0, 0};
    return ix_line_table_decode(&s, 0, comp_dir, 8, t);
}

static void expect(const struct ix_line_table *t, uint64_t a, const char *file, int line)
{
    const char *f = NULL;
    int l = 0;
    int found = ix_line_table_find(t, a, &f, &l);
    if (!file && !line) {
        if (found)
            ix_test_fail(__FILE__, __LINE__, "%#llx: expected no row, got %s:%d",
                         (unsigned long long)a, or_null(f), l);
        return;
    }
    if (!found || !same(f, file) || l != line)
        ix_test_fail(__FILE__, __LINE__, "%#llx: expected %s:%d, got %s:%d (found %d)",
                     (unsigned long long)a, or_null(file), line, or_null(f), l, found);
}

/* The program's answers, with file 1, 2, 3 and 4 named as given. */
static void expect_program(const struct ix_line_table *t, const char *const names[5])
{
    expect(t, 0xfff, NULL, 0);
    expect(t, 0x1000, names[2], 10);
    expect(t, 0x17ff, names[2], 10);
    expect(t, 0x1800, names[4], 7);
    expect(t, 0x1fff, names[4], 7);
    expect(t, 0x2000, names[1], 1);
    expect(t, 0x2010, names[1], 3);
    expect(t, 0x201f, names[1], 3);
    expect(t, 0x2020, NULL, 0);
    expect(t, 0x2fff, NULL, 0);
    expect(t, 0x3000, names[1], 5);
    expect(t, 0x3002, names[0], 5);
    const char *f = "unset";
    int l = -1;
    ASSERT(ix_line_table_find(t, 0x3005, &f, &l)); /* a row whose file is past the table */
    ASSERT(f == NULL);
    expect(t, 0x3008, NULL, 0);
    expect(t, UINT64_MAX, NULL, 0);
    ASSERT_EQ(t->nfiles, 5);
    for (int i = 0; i < 5; i++)
        ASSERT_STR_EQ(ix_line_table_file(t, (uint64_t)i), names[i]);
    ASSERT(ix_line_table_file(t, 5) == NULL);
}

TEST(handmade_v4_program_reads_as_libdw_reads_it)
{
    struct bytes o = {.n = 0};
    unit_v4(&o);
    struct ix_line_table t;
    ASSERT_OK(decode(&o, "/cu", &t));
    expect_program(&t, (const char *const[]){"???", "/cu/a.c", "inc/b.h", "/abs/c.h", "inc/d.h"});
    ix_line_table_free(&t);
    ASSERT_OK(decode(&o, NULL, &t)); /* no DW_AT_comp_dir: names stay relative */
    expect_program(&t, (const char *const[]){"???", "a.c", "inc/b.h", "/abs/c.h", "inc/d.h"});
    ix_line_table_free(&t);
}

TEST(handmade_v5_program_reads_as_libdw_reads_it)
{
    struct bytes o = {.n = 0};
    unit_v5(&o);
    struct ix_line_table t;
    ASSERT_OK(decode(&o, "/ignored", &t));
    expect_program(&t, (const char *const[]){"/cu/x.c", "/cu/a.c", "sub/b.h", "/abs/c.h", "sub/d.h"});
    ix_line_table_free(&t);
}

/* ---- malformed programs ---- */

/* Decodes len bytes copied to a buffer of exactly that size (so ASan sees
 * any read past it), and looks a few things up when it decodes. */
static int decode_exact(const unsigned char *p, size_t len, const struct ix_line_sections *strs,
                        uint64_t *rng)
{
    unsigned char *copy = malloc(len ? len : 1);
    ASSERT(copy != NULL);
    memcpy(copy, p, len);
    struct ix_line_sections s = *strs;
    s.line = copy;
    s.line_size = len;
    struct ix_line_table t;
    int rc = ix_line_table_decode(&s, 0, "/cu", 8, &t);
    if (rc == 0) {
        for (int i = 0; i < 16; i++) {
            const char *f;
            int l;
            ix_line_table_find(&t, ix_rand_next(rng) % 0x4000, &f, &l);
            ix_line_table_file(&t, ix_rand_next(rng) % 8);
        }
        ix_line_table_free(&t);
    } else {
        ASSERT(t.addr == NULL && t.files == NULL && t.nrows == 0 && t.nfiles == 0);
    }
    free(copy);
    return rc;
}

/* Where the program starts in a 32-bit unit (header_length's end + its value). */
static size_t program_start(const unsigned char *u, size_t len)
{
    uint16_t v;
    uint32_t hlen;
    memcpy(&v, u + 4, 2);
    size_t at = v >= 5 ? 8 : 6;
    ASSERT_LE(at + 4, len);
    memcpy(&hlen, u + at, 4);
    return at + 4 + hlen;
}

/* Every cut: as is (the unit claims more than there is) and with the
 * unit length made to fit (the header or program ends early). */
static void cut_everywhere(const unsigned char *u, size_t len, const struct ix_line_sections *strs,
                           uint64_t *rng)
{
    unsigned char *copy = malloc(len);
    ASSERT(copy != NULL);
    size_t prog = program_start(u, len);
    for (size_t cut = 0; cut < len; cut++) {
        ASSERT(decode_exact(u, cut, strs, rng) != 0);
        if (cut < 4)
            continue;
        memcpy(copy, u, cut);
        uint32_t l = (uint32_t)(cut - 4);
        memcpy(copy, &l, 4);
        int rc = decode_exact(copy, cut, strs, rng);
        if (cut < prog)
            ASSERT(rc != 0);
    }
    free(copy);
}

static void mutate_many(const unsigned char *u, size_t len, const struct ix_line_sections *strs,
                        uint64_t *rng, int rounds)
{
    unsigned char *copy = malloc(len);
    ASSERT(copy != NULL);
    for (int r = 0; r < rounds; r++) {
        memcpy(copy, u, len);
        for (int k = 1 + (int)(ix_rand_next(rng) % 4); k > 0; k--)
            copy[ix_rand_next(rng) % len] = (unsigned char)ix_rand_next(rng);
        decode_exact(copy, len, strs, rng);
    }
    free(copy);
}

/* The first unit of a variant library's .debug_line; 0 when 64-bit. */
static size_t first_unit(const char *path, struct opened *o, struct ix_line_sections *sec)
{
    open_dwfl(path, o);
    ASSERT(o->dw != NULL);
    ASSERT_OK(ix_line_sections_get(ix_dw.dwarf_getelf(o->dw), sec));
    uint32_t l;
    memcpy(&l, sec->line, 4);
    if (l == 0xffffffff)
        return 0;
    ASSERT_LE((size_t)l + 4, sec->line_size);
    return (size_t)l + 4;
}

TEST(malformed_programs_fail_cleanly)
{
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    struct ix_line_sections strs = {NULL, (const unsigned char *)line_str, NULL, 0,
                                    sizeof line_str, 0, 0};
    struct bytes v4 = {.n = 0}, v5 = {.n = 0};
    unit_v4(&v4);
    unit_v5(&v5);
    cut_everywhere(v4.b, v4.n, &strs, &rng);
    cut_everywhere(v5.b, v5.n, &strs, &rng);
    mutate_many(v4.b, v4.n, &strs, &rng, 20000);
    mutate_many(v5.b, v5.n, &strs, &rng, 20000);
    char *paths = strdup(IX_LINES_VARIANTS), *save = NULL;
    for (char *p = strtok_r(paths, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        struct opened o;
        struct ix_line_sections sec;
        size_t len = first_unit(p, &o, &sec);
        if (len > 0 && len < 1 << 16) {
            cut_everywhere(sec.line, len, &sec, &rng);
            mutate_many(sec.line, len, &sec, &rng, 5000);
        }
        ix_dw.dwfl_end(o.dwfl);
    }
    free(paths);
    unsigned char junk[512];
    for (int r = 0; r < 20000; r++) { /* a plausible start, then noise */
        size_t len = 6 + ix_rand_next(&rng) % (sizeof junk - 6);
        for (size_t i = 0; i < len; i++)
            junk[i] = (unsigned char)ix_rand_next(&rng);
        uint32_t l = (uint32_t)(len - 4);
        uint16_t v = (uint16_t)(2 + ix_rand_next(&rng) % 4);
        memcpy(junk, &l, 4);
        memcpy(junk + 4, &v, 2);
        decode_exact(junk, len, &strs, &rng);
    }
}

/* ---- the CU index from .debug_aranges ---- */

/* The CU (DIE offset) the index gives for a, 0 when none; found as
 * symbolize/dwarf_frames.c finds it. */
static Dwarf_Off arange_cu(const struct ix_cu_arange *ar, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ar[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0 && lo - i <= 8;)
        if (a < ar[i].hi)
            return ar[i].die;
    return 0;
}

/* The first, middle and last byte of every range of every CU's DIE (what
 * the index replaced) must map to that CU. */
static void compare_aranges(Dwarf *dw, const char *what)
{
    struct ix_cu_arange *ar;
    size_t n, hsize, checked = 0, diffs = 0;
    ASSERT_OK(ix_cu_aranges(dw, &ar, &n));
    for (Dwarf_Off off = 0, next;
         ix_dw.dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0; off = next) {
        Dwarf_Die die;
        Dwarf_Addr base, lo, hi;
        if (!ix_dw.dwarf_offdie(dw, off + hsize, &die))
            continue;
        for (ptrdiff_t r = 0; (r = ix_dw.dwarf_ranges(&die, r, &base, &lo, &hi)) > 0;) {
            uint64_t probe[3] = {lo, lo + (hi - lo) / 2, hi - 1};
            for (int k = 0; k < 3 && lo < hi; k++, checked++) {
                Dwarf_Off got = arange_cu(ar, n, probe[k]);
                if (got != off + hsize && diffs++ < 8)
                    fprintf(stderr, "%s: %#llx: aranges give the CU at %#llx, not %#llx\n", what,
                            (unsigned long long)probe[k], (unsigned long long)got,
                            (unsigned long long)(off + hsize));
            }
        }
    }
    fprintf(stderr, "%s: %zu aranges, %zu addresses checked, %zu differ\n", what, n, checked,
            diffs);
    free(ar);
    ASSERT_EQ(diffs, 0);
    ASSERT_GT(checked, 100);
}

TEST(libc_aranges_index_matches_cu_ranges)
{
    struct opened o;
    const char *debugfile = open_libc(&o);
    compare_aranges(o.dw, debugfile);
    ix_dw.dwfl_end(o.dwfl);
}

TEST(own_aranges_index_matches_cu_ranges)
{
#ifdef __clang__
    SKIP("clang emits no .debug_aranges");
#endif
    struct opened o;
    open_dwfl("/proc/self/exe", &o);
    ASSERT(o.dw != NULL);
    compare_aranges(o.dw, "test binary");
    ix_dw.dwfl_end(o.dwfl);
}

__attribute__((noinline)) static int aranges_probe(int x) { return x * 3 + 1; }

/* A copy of this binary whose .debug_aranges is cut to its first set (one
 * CU of many), and one without the section: the index refuses both, and
 * the symbolizer still names a function of another CU (the scan of every
 * CU's ranges). */
TEST(partial_aranges_are_not_used)
{
    char dir[] = "/tmp/ix-aranges-XXXXXX", cmd[1024], exe[512];
    ASSERT(mkdtemp(dir) != NULL);
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1); /* the shell's is objcopy's */
    ASSERT(el > 0);
    exe[el] = '\0';
    snprintf(cmd, sizeof cmd, "objcopy --dump-section .debug_aranges=%s/ar %s %s/copy 2>&1", dir,
             exe, dir);
    char *out = NULL;
    if (run_cmd(cmd, &out) != 0)
        SKIP("no .debug_aranges here (objcopy: %s)", out ? out : "");
    free(out);
    char path[300];
    snprintf(path, sizeof path, "%s/ar", dir);
    FILE *f = fopen(path, "r+b");
    if (!f) { /* objcopy says nothing when the section is missing (clang) */
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        run_cmd(cmd, NULL);
        SKIP("no .debug_aranges in %s", exe);
    }
    uint32_t len;
    ASSERT_EQ(fread(&len, 4, 1, f), 1);
    ASSERT(len < 0xfffffff0u);
    ASSERT_EQ(ftruncate(fileno(f), 4 + (off_t)len), 0);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "objcopy --update-section .debug_aranges=%s/ar %s/copy %s/cut && "
             "objcopy --remove-section .debug_aranges %s/copy %s/none",
             dir, dir, dir, dir, dir);
    ASSERT_EQ(run_cmd(cmd, NULL), 0);
    Dl_info info;
    ASSERT(dladdr((void *)aranges_probe, &info) && info.dli_fbase);
    uint64_t vaddr = (uint64_t)((uintptr_t)aranges_probe - (uintptr_t)info.dli_fbase);
    static const char *const names[] = {"cut", "none"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        struct opened o;
        open_dwfl(path, &o);
        ASSERT(o.dw != NULL);
        struct ix_cu_arange *ar = NULL;
        size_t n = 0;
        ASSERT_EQ(ix_cu_aranges(o.dw, &ar, &n), -1);
        ASSERT(ar == NULL);
        struct ix_dwarf_frames *d = ix_dwarf_frames_new(o.mod);
        ASSERT(d != NULL);
        struct ix_sym_line lines[8];
        int nl = ix_dwarf_frames_lookup(d, vaddr, NULL, lines, 8);
        ASSERT_GE(nl, 1);
        ASSERT_STR_EQ(lines[nl - 1].function, "aranges_probe");
        ASSERT_STR_CONTAINS(lines[nl - 1].file, "test_symbols_lines.c");
        ix_dwarf_frames_free(d);
        ix_dw.dwfl_end(o.dwfl);
    }
    ASSERT_EQ(aranges_probe(1), 4);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(run_cmd(cmd, NULL), 0);
}

static const struct ix_test tests[] = {
    TEST_ENTRY(libc_lines_match_libdw),
    TEST_ENTRY(own_lines_match_libdw),
    TEST_ENTRY(every_encoding_matches_libdw),
    TEST_ENTRY(handmade_v4_program_reads_as_libdw_reads_it),
    TEST_ENTRY(handmade_v5_program_reads_as_libdw_reads_it),
    TEST_ENTRY(malformed_programs_fail_cleanly),
    TEST_ENTRY(libc_aranges_index_matches_cu_ranges),
    TEST_ENTRY(own_aranges_index_matches_cu_ranges),
    TEST_ENTRY(partial_aranges_are_not_used),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
