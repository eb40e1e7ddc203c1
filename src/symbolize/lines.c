#include "symbolize/lines.h"
#include "introspect.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/elfutils_lib.h"
#include "util/grow.h"

/* Where libdw's read_srclines (libdw/dwarf_getsrclines.c, 0.188) behaves
 * oddly on valid input, the decoder does the same: the extended-opcode
 * length is one byte (a ULEB128 in DWARF; equal below 128), known extended
 * opcodes ignore that length, register values wrap as libdw's 32-bit
 * fields do, and a row whose line, column, op_index, isa, discriminator or
 * is_stmt does not fit libdw's Dwarf_Line fails the whole table. Its odd
 * behaviours on malformed input (an extended length of 0 steps back a
 * byte, a LEB128 cut short reads as UINT64_MAX) are rejected instead. */

/* A row while decoding; the table keeps them packed (lines.h). */
struct ix_line_row {
    uint64_t addr;
    int32_t line;
    uint32_t file_end; /* file index << 1 | end_sequence */
};

#define FILE_NONE 0x7fffu /* a row's file past any table (file_end is 16 bits) */
#define NO_DIR UINT32_MAX

/* ---- bounded reading: every read checks the end; a failure sticks ---- */

struct rd {
    const unsigned char *p, *end;
    int bad, msb;
};

static int rd_has(struct rd *r, uint64_t n)
{
    if (!r->bad && (uint64_t)(r->end - r->p) >= n)
        return 1;
    r->bad = 1;
    return 0;
}

static uint64_t rd_fixed(struct rd *r, unsigned n)
{
    uint64_t v = 0;
    if (!rd_has(r, n))
        return 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << 8 * (r->msb ? n - 1 - i : i);
    r->p += n;
    return v;
}

static void rd_skip(struct rd *r, uint64_t n)
{
    if (rd_has(r, n))
        r->p += n;
}

/* At most 10 bytes, as libdw reads. */
static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && rd_has(r, 1); shift += 7) {
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* At most 9 bytes (libdw reads a 10th specially: rejected here). */
static int64_t rd_sleb(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 63 && rd_has(r, 1); shift += 7) {
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b & 0x40)
                v |= -((uint64_t)1 << (shift + 7));
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

/* A NUL-terminated string inside the reader's bounds. */
static const char *rd_str(struct rd *r)
{
    const unsigned char *nul = r->bad ? NULL : memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) {
        r->bad = 1;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

/* The string at off of a string section, NUL-terminated inside it. */
static const char *section_str(const unsigned char *sec, size_t size, uint64_t off)
{
    if (!sec || off >= size || !memchr(sec + off, 0, size - off))
        return NULL;
    return (const char *)sec + off;
}

/* ---- the decoder ---- */

struct header {
    unsigned version, offset_size, address_size;
    unsigned min_inst, max_ops, line_range, opcode_base;
    int line_base;
    uint8_t default_is_stmt;
    const unsigned char *ob;   /* the opcode_base byte: ob[op] = standard op's arg count */
    const unsigned char *prog; /* where the program starts */
    unsigned std_ok;           /* bit op: standard op declared with its DWARF arg count */
    int disc_ok;               /* set_discriminator allowed (libdw's check) */
};

/* op_index < max_ops <= 255 always fits libdw's 8 bits; the others may
 * not, and wide has a bit for each that does not (libdw fails a row then). */
struct state {
    uint64_t addr;
    int64_t line;
    uint32_t op_index, file, column, isa, discriminator; /* file: clamped to FILE_NONE */
    uint8_t is_stmt;
    uint8_t wide;
};

enum { WIDE_COLUMN = 1, WIDE_ISA = 2, WIDE_DISCRIMINATOR = 4, WIDE_STMT = 8 };

struct dir {
    const char *s; /* NULL: DWARF < 5 directory 0 of a unit without DW_AT_comp_dir */
    size_t len;
};

struct fname {
    const char *name;
    uint32_t dir; /* NO_DIR: name as is */
};

struct dec {
    struct rd r; /* over the unit */
    const struct ix_line_sections *sec;
    struct header h;
    struct state st;
    struct dir *dirs;
    size_t ndirs, dcap;
    struct fname *files;
    size_t nfiles, fcap;
    struct ix_line_row *rows;
    size_t nrows, rcap;
};

static int read_header(struct dec *d)
{
    struct rd *r = &d->r;
    struct header *h = &d->h;
    uint64_t len = rd_fixed(r, 4);
    h->offset_size = 4;
    if (len == 0xffffffff) {
        len = rd_fixed(r, 8);
        h->offset_size = 8;
    }
    if (r->bad || len > (size_t)(r->end - r->p))
        return INTROSPECT_EINVAL;
    r->end = r->p + len;
    h->version = (unsigned)rd_fixed(r, 2);
    if (h->version < 2 || h->version > 5)
        return INTROSPECT_EINVAL;
    if (h->version >= 5 && (rd_fixed(r, 1) != h->address_size || rd_fixed(r, 1) != 0))
        return INTROSPECT_EINVAL;
    uint64_t hlen = rd_fixed(r, h->offset_size);
    if (r->bad || hlen > (size_t)(r->end - r->p))
        return INTROSPECT_EINVAL;
    h->prog = r->p + hlen;
    h->min_inst = (unsigned)rd_fixed(r, 1);
    h->max_ops = h->version >= 4 ? (unsigned)rd_fixed(r, 1) : 1;
    h->default_is_stmt = (uint8_t)rd_fixed(r, 1);
    h->line_base = (int8_t)rd_fixed(r, 1);
    h->line_range = (unsigned)rd_fixed(r, 1);
    h->opcode_base = (unsigned)rd_fixed(r, 1);
    h->ob = r->p - 1;
    if (h->max_ops == 0 || h->opcode_base == 0)
        return INTROSPECT_EINVAL;
    rd_skip(r, h->opcode_base - 1);
    if (r->bad)
        return INTROSPECT_EINVAL;
    /* libdw checks each standard opcode's count where it runs it, and
     * set_discriminator's in opcode 4's slot, wherever that falls. */
    static const unsigned char known[DW_LNS_set_isa + 1] = {0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
    for (unsigned op = 1; op <= DW_LNS_set_isa && op < h->opcode_base; op++)
        if (h->ob[op] == known[op])
            h->std_ok |= 1u << op;
    if (h->ob + DW_LNE_set_discriminator < r->end && h->ob[DW_LNE_set_discriminator] == 1)
        h->disc_ok = 1;
    return 0;
}

static int add_dir(struct dec *d, const char *s)
{
    if (ix_grow_from(&d->dirs, &d->dcap, d->ndirs + 1, sizeof *d->dirs, 16))
        return INTROSPECT_ENOMEM;
    d->dirs[d->ndirs++] = (struct dir){s, s ? strlen(s) : 0};
    return 0;
}

static int add_file(struct dec *d, const char *name, uint32_t dir)
{
    if (ix_grow_from(&d->files, &d->fcap, d->nfiles + 1, sizeof *d->files, 32))
        return INTROSPECT_ENOMEM;
    d->files[d->nfiles++] = (struct fname){name, dir};
    return 0;
}

/* DWARF < 5: directory 0 is the unit's comp_dir, then NUL-terminated
 * strings up to an empty one; then the files (name, directory, mtime and
 * length) up to an empty name. File 0 does not exist: libdw's "???". */
static int read_tables_v4(struct dec *d, const char *comp_dir)
{
    struct rd *r = &d->r;
    int rc = add_dir(d, comp_dir);
    while (!rc && rd_has(r, 1) && *r->p)
        rc = add_dir(d, rd_str(r));
    rd_skip(r, 1);
    if (!rc)
        rc = add_file(d, "???", NO_DIR);
    if (!rc && !rd_has(r, 1))
        return INTROSPECT_EINVAL;
    while (!rc && rd_has(r, 1) && *r->p) {
        const char *name = rd_str(r);
        uint64_t dir = rd_uleb(r);
        rd_uleb(r); /* mtime */
        rd_uleb(r); /* length */
        if (r->bad || dir >= d->ndirs)
            return INTROSPECT_EINVAL;
        rc = add_file(d, name, (uint32_t)dir);
    }
    rd_skip(r, 1);
    return rc ? rc : r->bad ? INTROSPECT_EINVAL : 0;
}

/* A DWARF 5 entry format: the form of each field, which one is the path
 * and which the directory index (the others are skipped). */
struct formats {
    unsigned n;
    uint16_t form[255];
    int path, index;
};

/* The forms libdw accepts in entry formats (libdw_valid_user_form). */
static int user_form(unsigned form)
{
    switch (form) {
    case DW_FORM_block: case DW_FORM_block1: case DW_FORM_block2: case DW_FORM_block4:
    case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
    case DW_FORM_data16: case DW_FORM_flag: case DW_FORM_line_strp: case DW_FORM_sdata:
    case DW_FORM_sec_offset: case DW_FORM_string: case DW_FORM_strp: case DW_FORM_strp_sup:
    case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3:
    case DW_FORM_strx4: case DW_FORM_udata:
        return 1;
    default:
        return 0;
    }
}

static int read_formats(struct dec *d, struct formats *f, int need_index)
{
    struct rd *r = &d->r;
    f->n = (unsigned)rd_fixed(r, 1);
    f->path = f->index = -1;
    for (unsigned i = 0; i < f->n; i++) {
        uint16_t desc = (uint16_t)rd_uleb(r), form = (uint16_t)rd_uleb(r); /* libdw's widths */
        if (r->bad || !user_form(form))
            return INTROSPECT_EINVAL;
        f->form[i] = form;
        if (desc == DW_LNCT_path)
            f->path = (int)i;
        else if (desc == DW_LNCT_directory_index)
            f->index = (int)i;
    }
    if (r->bad || (f->n && (f->path < 0 || (need_index && f->index < 0))))
        return INTROSPECT_EINVAL;
    return 0;
}

/* One field: *str for the string forms, *num for the constant forms libdw
 * reads as an index (others leave them unset), and skips it. */
static void read_field(struct dec *d, unsigned form, const char **str, uint64_t *num)
{
    struct rd *r = &d->r;
    const struct ix_line_sections *s = d->sec;
    switch (form) {
    case DW_FORM_string: *str = rd_str(r); break;
    case DW_FORM_line_strp:
        *str = section_str(s->line_str, s->line_str_size, rd_fixed(r, d->h.offset_size));
        break;
    case DW_FORM_strp: *str = section_str(s->str, s->str_size, rd_fixed(r, d->h.offset_size)); break;
    case DW_FORM_data1: *num = rd_fixed(r, 1); break;
    case DW_FORM_data2: *num = rd_fixed(r, 2); break;
    case DW_FORM_data4: *num = rd_fixed(r, 4); break;
    case DW_FORM_data8: *num = rd_fixed(r, 8); break;
    case DW_FORM_udata: *num = rd_uleb(r); break;
    case DW_FORM_sdata: rd_sleb(r); break;
    case DW_FORM_strx: rd_uleb(r); break;
    case DW_FORM_flag: case DW_FORM_strx1: rd_skip(r, 1); break;
    case DW_FORM_strx2: rd_skip(r, 2); break;
    case DW_FORM_strx3: rd_skip(r, 3); break;
    case DW_FORM_strx4: rd_skip(r, 4); break;
    case DW_FORM_data16: rd_skip(r, 16); break;
    case DW_FORM_sec_offset: case DW_FORM_strp_sup: rd_skip(r, d->h.offset_size); break;
    case DW_FORM_block: rd_skip(r, rd_uleb(r)); break;
    case DW_FORM_block1: rd_skip(r, rd_fixed(r, 1)); break;
    case DW_FORM_block2: rd_skip(r, rd_fixed(r, 2)); break;
    case DW_FORM_block4: rd_skip(r, rd_fixed(r, 4)); break;
    default: r->bad = 1;
    }
}

/* One directory or file entry: its path and directory index (UINT64_MAX
 * when the format has none or its form is not one libdw reads as one). */
static void read_entry(struct dec *d, const struct formats *f, const char **path, uint64_t *dir)
{
    *path = NULL;
    *dir = UINT64_MAX;
    for (unsigned m = 0; m < f->n && !d->r.bad; m++) {
        const char *str = NULL;
        uint64_t num = UINT64_MAX;
        read_field(d, f->form[m], &str, &num);
        if ((int)m == f->path)
            *path = str;
        else if ((int)m == f->index)
            *dir = num;
    }
}

/* The count of a table of n-field entries: libdw's sanity bound is a
 * byte per field. */
static int read_count(struct dec *d, const struct formats *f, uint64_t *count)
{
    struct rd *r = &d->r;
    *count = rd_uleb(r);
    if (r->bad || (f->n == 0 && *count) || (f->n && *count > (size_t)(r->end - r->p) / f->n))
        return INTROSPECT_EINVAL;
    return 0;
}

/* DWARF 5: both tables are described by entry formats; entries count from
 * 0, and file 0 takes the place of libdw's "???". */
static int read_tables_v5(struct dec *d)
{
    struct formats f;
    uint64_t n, dir;
    const char *path;
    int rc = read_formats(d, &f, 0);
    if (rc || (rc = read_count(d, &f, &n)))
        return rc;
    for (uint64_t i = 0; i < n && !rc; i++) {
        read_entry(d, &f, &path, &dir);
        rc = d->r.bad || !path ? INTROSPECT_EINVAL : add_dir(d, path);
    }
    if (rc || (rc = read_formats(d, &f, 1)) || (rc = read_count(d, &f, &n)))
        return rc;
    if (n == 0)
        rc = add_file(d, "???", NO_DIR);
    for (uint64_t i = 0; i < n && !rc; i++) {
        read_entry(d, &f, &path, &dir);
        rc = d->r.bad || !path || dir >= d->ndirs ? INTROSPECT_EINVAL
                                                  : add_file(d, path, (uint32_t)dir);
    }
    return rc;
}

/* ---- the line-number program ---- */

static void set_wide(struct state *s, unsigned bit, int wide)
{
    s->wide = (uint8_t)((s->wide & ~bit) | (wide ? bit : 0));
}

static void reset(struct dec *d)
{
    d->st = (struct state){.line = 1, .file = 1, .is_stmt = d->h.default_is_stmt};
    set_wide(&d->st, WIDE_STMT, d->st.is_stmt > 1);
}

/* libdw keeps a row in narrower fields and rejects the whole table when a
 * value does not fit one. Rows cannot outnumber the program's bytes. */
static int emit(struct dec *d, uint32_t end)
{
    const struct state *s = &d->st;
    if (s->wide || (uint64_t)s->line + 0x80000000u > 0xffffffffu || d->nrows == d->rcap)
        return INTROSPECT_EINVAL;
    d->rows[d->nrows++] = (struct ix_line_row){s->addr, (int32_t)s->line, s->file << 1 | end};
    return 0;
}

static void set_file(struct dec *d, uint64_t file)
{
    uint32_t f = (uint32_t)file; /* libdw's unsigned int */
    d->st.file = f < FILE_NONE ? f : FILE_NONE;
}

static void add_line(struct dec *d, int64_t delta)
{
    d->st.line = (int64_t)((uint64_t)d->st.line + (uint64_t)delta); /* wraps, never UB */
}

/* libdw computes the advance in unsigned int. */
static void advance(struct dec *d, uint32_t op_advance)
{
    if (d->h.max_ops == 1) { /* op_index stays 0 */
        d->st.addr += (uint32_t)(d->h.min_inst * op_advance);
        return;
    }
    uint32_t ops = d->st.op_index + op_advance;
    d->st.addr += (uint32_t)(d->h.min_inst * (ops / d->h.max_ops));
    d->st.op_index = ops % d->h.max_ops;
}

static int special(struct dec *d, unsigned op)
{
    if (d->h.line_range == 0)
        return INTROSPECT_EINVAL;
    unsigned adj = op - d->h.opcode_base;
    add_line(d, d->h.line_base + (int)(adj % d->h.line_range));
    advance(d, adj / d->h.line_range);
    int rc = emit(d, 0);
    d->st.discriminator = 0;
    return rc;
}

static int standard(struct dec *d, unsigned op)
{
    struct rd *r = &d->r;
    if (op > DW_LNS_set_isa) { /* newer than this decoder: skip its ULEB128s */
        for (unsigned n = d->h.ob[op]; n > 0; n--)
            rd_uleb(r);
        return 0;
    }
    if (!(d->h.std_ok >> op & 1))
        return INTROSPECT_EINVAL;
    switch (op) {
    case DW_LNS_copy: {
        int rc = emit(d, 0);
        d->st.discriminator = 0;
        return rc;
    }
    case DW_LNS_advance_pc: advance(d, (uint32_t)rd_uleb(r)); break;
    case DW_LNS_advance_line: add_line(d, (int32_t)(uint32_t)rd_sleb(r)); break;
    case DW_LNS_set_file: set_file(d, rd_uleb(r)); break;
    case DW_LNS_set_column:
        d->st.column = (uint32_t)rd_uleb(r);
        set_wide(&d->st, WIDE_COLUMN, d->st.column > 0xffff);
        break;
    case DW_LNS_negate_stmt:
        d->st.is_stmt = (uint8_t)(1 - d->st.is_stmt);
        set_wide(&d->st, WIDE_STMT, d->st.is_stmt > 1);
        break;
    case DW_LNS_const_add_pc:
        if (d->h.line_range == 0)
            return INTROSPECT_EINVAL;
        advance(d, (255 - d->h.opcode_base) / d->h.line_range);
        break;
    case DW_LNS_fixed_advance_pc:
        d->st.addr += rd_fixed(r, 2);
        d->st.op_index = 0;
        break;
    case DW_LNS_set_isa:
        d->st.isa = (uint32_t)rd_uleb(r);
        set_wide(&d->st, WIDE_ISA, d->st.isa > 0xff);
        break;
    default: break; /* basic_block, prologue_end, epilogue_begin: no effect on rows */
    }
    return 0;
}

static int define_file(struct dec *d)
{
    struct rd *r = &d->r;
    const char *name = rd_str(r);
    uint32_t dir = (uint32_t)rd_uleb(r); /* libdw's unsigned int */
    rd_uleb(r);                          /* mtime */
    rd_uleb(r);                          /* length */
    if (r->bad || dir >= d->ndirs)
        return INTROSPECT_EINVAL;
    return add_file(d, name, dir);
}

static int extended(struct dec *d)
{
    struct rd *r = &d->r;
    if (!rd_has(r, 2))
        return INTROSPECT_EINVAL;
    unsigned len = *r->p++;
    if ((len & 0x80) || len == 0 || !rd_has(r, len))
        return INTROSPECT_EINVAL;
    unsigned op = *r->p++;
    switch (op) {
    case DW_LNE_end_sequence: {
        int rc = emit(d, 1);
        reset(d);
        return rc;
    }
    case DW_LNE_set_address:
        d->st.op_index = 0;
        d->st.addr = rd_fixed(r, d->h.address_size);
        break;
    case DW_LNE_define_file: return define_file(d);
    case DW_LNE_set_discriminator:
        if (!d->h.disc_ok)
            return INTROSPECT_EINVAL;
        d->st.discriminator = (uint32_t)rd_uleb(r);
        set_wide(&d->st, WIDE_DISCRIMINATOR, d->st.discriminator > 0xffffff);
        break;
    case DW_LNE_NVIDIA_inlined_call: rd_uleb(r); rd_uleb(r); break;
    case DW_LNE_NVIDIA_set_function_name: rd_uleb(r); break;
    default: rd_skip(r, len - 1); break;
    }
    return 0;
}

static int run_program(struct dec *d)
{
    struct rd *r = &d->r;
    size_t cap = (size_t)(r->end - r->p);
    if (cap && !(d->rows = malloc(cap * sizeof *d->rows)))
        return INTROSPECT_ENOMEM;
    d->rcap = cap;
    reset(d);
    int rc = 0;
    while (!rc && r->p < r->end) {
        unsigned op = *r->p++;
        rc = op >= d->h.opcode_base ? special(d, op) : op ? standard(d, op) : extended(d);
        if (r->bad)
            rc = INTROSPECT_EINVAL;
    }
    return rc;
}

/* ---- libdw's order: stable, by address, end_sequence first at one address ---- */

static int before(const struct ix_line_row *a, const struct ix_line_row *b)
{
    return a->addr != b->addr ? a->addr < b->addr : (a->file_end & 1) > (b->file_end & 1);
}

/* Merges the sorted runs [lo, mid) and [mid, hi) stably. The left run's
 * rows that nothing on the right goes before stay put; only the rest is
 * copied aside. */
static int merge(struct ix_line_row *r, size_t lo, size_t mid, size_t hi,
                 struct ix_line_row **tmp, size_t *tcap)
{
    size_t a = lo, b = mid;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (before(&r[mid], &r[m]))
            b = m;
        else
            a = m + 1;
    }
    size_t n = mid - a, i = 0, j = mid, k = a;
    if (ix_grow_from(tmp, tcap, n, sizeof **tmp, 64))
        return INTROSPECT_ENOMEM;
    memcpy(*tmp, r + a, n * sizeof *r);
    while (i < n && j < hi)
        r[k++] = before(&r[j], &(*tmp)[i]) ? r[j++] : (*tmp)[i++];
    memcpy(r + k, *tmp + i, (n - i) * sizeof *r);
    return 0;
}

/* Bottom-up merge sort that skips runs already in order: a program's
 * sequences are ascending, so most tables need few merges or none. */
static int sort_rows(struct ix_line_row *r, size_t n)
{
    size_t i = 1;
    while (i < n && !before(&r[i], &r[i - 1]))
        i++;
    if (i >= n)
        return 0;
    struct ix_line_row *tmp = NULL;
    size_t tcap = 0;
    int rc = 0;
    for (size_t w = 1; w < n && !rc; w *= 2)
        for (size_t lo = 0; lo + w < n && !rc; lo += 2 * w) {
            size_t mid = lo + w, hi = n - mid > w ? mid + w : n;
            if (before(&r[mid], &r[mid - 1]))
                rc = merge(r, lo, mid, hi, &tmp, &tcap);
        }
    free(tmp);
    return rc;
}

/* ---- file names, as libdw joins them ---- */

static size_t name_len(const struct dec *d, const struct fname *f)
{
    size_t n = strlen(f->name) + 1;
    if (f->name[0] != '/' && f->dir != NO_DIR && d->dirs[f->dir].s)
        n += d->dirs[f->dir].len + 1;
    return n;
}

static char *put_name(const struct dec *d, const struct fname *f, char *p)
{
    if (f->name[0] != '/' && f->dir != NO_DIR && d->dirs[f->dir].s) {
        memcpy(p, d->dirs[f->dir].s, d->dirs[f->dir].len);
        p += d->dirs[f->dir].len;
        *p++ = '/';
    }
    size_t n = strlen(f->name) + 1;
    memcpy(p, f->name, n);
    return p + n;
}

/* The name pointers, then the names, in one block. */
static int build_names(const struct dec *d, struct ix_line_table *t)
{
    size_t bytes = d->nfiles * sizeof(char *);
    for (size_t i = 0; i < d->nfiles; i++)
        bytes += name_len(d, &d->files[i]);
    const char **names = malloc(bytes);
    if (!names)
        return INTROSPECT_ENOMEM;
    char *p = (char *)(names + d->nfiles);
    for (size_t i = 0; i < d->nfiles; i++) {
        names[i] = p;
        p = put_name(d, &d->files[i], p);
    }
    t->files = names;
    t->nfiles = d->nfiles;
    return 0;
}

/* A row that repeats the file, line and end flag of the row before it
 * answers nothing that row would not: lookups take the last row at or
 * below an address. GCC repeats about 40% of its rows (columns, views,
 * is_stmt changes). */
static size_t drop_repeats(struct ix_line_row *r, size_t n)
{
    size_t k = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if (r[i].line != r[k - 1].line || r[i].file_end != r[k - 1].file_end)
            r[k++] = r[i];
    return k;
}

/* The rows as the table keeps them (lines.h); a CU spanning 4 GB or more
 * is left to libdw. */
static int pack_rows(const struct ix_line_row *r, size_t n, struct ix_line_table *t)
{
    if (n == 0)
        return 0;
    if (r[n - 1].addr - r[0].addr > UINT32_MAX)
        return INTROSPECT_EINVAL;
    char *block = malloc(n * (sizeof *t->addr + sizeof *t->line + sizeof *t->file_end));
    if (!block)
        return INTROSPECT_ENOMEM;
    t->addr = (uint32_t *)block;
    t->line = (int32_t *)(t->addr + n);
    t->file_end = (uint16_t *)(t->line + n);
    t->base = r[0].addr;
    t->nrows = n;
    for (size_t i = 0; i < n; i++) {
        t->addr[i] = (uint32_t)(r[i].addr - t->base);
        t->line[i] = r[i].line;
        t->file_end[i] = (uint16_t)r[i].file_end;
    }
    return 0;
}

static int finish(struct dec *d, struct ix_line_table *t)
{
    if (d->nfiles >= FILE_NONE)
        return INTROSPECT_EINVAL;
    int rc = sort_rows(d->rows, d->nrows);
    if (rc || (rc = build_names(d, t)))
        return rc;
    if (d->nrows) {
        d->rows[d->nrows - 1].file_end |= 1; /* libdw: the highest row ends a sequence */
        d->nrows = drop_repeats(d->rows, d->nrows);
    }
    return pack_rows(d->rows, d->nrows, t);
}

int ix_line_table_decode(const struct ix_line_sections *s, uint64_t offset, const char *comp_dir,
                         unsigned address_size, struct ix_line_table *t)
{
    *t = (struct ix_line_table){0};
    if (!s->line || offset >= s->line_size || (address_size != 4 && address_size != 8))
        return INTROSPECT_EINVAL;
    struct dec d = {.r = {s->line + offset, s->line + s->line_size, 0, s->msb}, .sec = s};
    d.h.address_size = address_size;
    int rc = read_header(&d);
    if (!rc)
        rc = d.h.version < 5 ? read_tables_v4(&d, comp_dir) : read_tables_v5(&d);
    if (!rc && d.r.p != d.h.prog)
        rc = INTROSPECT_EINVAL;
    if (!rc)
        rc = run_program(&d);
    if (!rc)
        rc = finish(&d, t);
    free(d.rows);
    free(d.dirs);
    free(d.files);
    if (rc)
        ix_line_table_free(t);
    return rc;
}

/* ---- lookups ---- */

const char *ix_line_table_file(const struct ix_line_table *t, uint64_t idx)
{
    return idx < t->nfiles ? t->files[idx] : NULL;
}

/* libdw's dwarf_getsrc_die: the last row at or below addr, unless it ends
 * a sequence. */
int ix_line_table_find(const struct ix_line_table *t, uint64_t addr, const char **file,
                       int *line)
{
    if (t->nrows == 0 || addr < t->base)
        return 0;
    uint32_t off = addr - t->base > UINT32_MAX ? UINT32_MAX : (uint32_t)(addr - t->base);
    size_t lo = 0, hi = t->nrows; /* the first row above off */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->addr[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || (t->file_end[lo - 1] & 1))
        return 0;
    *file = ix_line_table_file(t, t->file_end[lo - 1] >> 1);
    *line = t->line[lo - 1];
    return 1;
}

void ix_line_table_free(struct ix_line_table *t)
{
    free(t->addr);
    free(t->files);
    *t = (struct ix_line_table){0};
}

/* ---- from libdw's objects ---- */

/* One of the sections, chosen as libdw chooses: the first of the name that
 * has data, is not SHT_NOBITS and is in no group. One still compressed
 * (libdw could not inflate it) or GNU-compressed (.zdebug_, which libdw
 * inflates in place, unmarked) leaves the object to libdw. */
static int take(Elf_Scn *scn, const GElf_Shdr *sh, const char *name, const char *want,
                const unsigned char **p, size_t *size)
{
    if (*p || sh->sh_type == SHT_NOBITS || (sh->sh_flags & SHF_GROUP))
        return 0;
    if (name[0] == '.' && name[1] == 'z' && strcmp(name + 2, want + 1) == 0)
        return INTROSPECT_EINVAL;
    if (strcmp(name, want) != 0)
        return 0;
    Elf_Data *data = ix_dw.elf_getdata(scn, NULL);
    if ((sh->sh_flags & SHF_COMPRESSED) || !data)
        return INTROSPECT_EINVAL;
    if (data->d_buf && data->d_size) {
        *p = data->d_buf;
        *size = data->d_size;
    }
    return 0;
}

int ix_line_sections_get(Elf *elf, struct ix_line_sections *s)
{
    *s = (struct ix_line_sections){0};
    size_t shstrndx;
    const char *ident = ix_dw.elf_getident(elf, NULL);
    if (!ident || ix_dw.elf_getshdrstrndx(elf, &shstrndx))
        return INTROSPECT_EINVAL;
    s->msb = ident[EI_DATA] == ELFDATA2MSB;
    for (Elf_Scn *scn = NULL; (scn = ix_dw.elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name;
        if (!ix_dw.gelf_getshdr(scn, &sh) || !(name = ix_dw.elf_strptr(elf, shstrndx, sh.sh_name)))
            continue;
        if (take(scn, &sh, name, ".debug_line", &s->line, &s->line_size) ||
            take(scn, &sh, name, ".debug_line_str", &s->line_str, &s->line_str_size) ||
            take(scn, &sh, name, ".debug_str", &s->str, &s->str_size)) {
            *s = (struct ix_line_sections){0};
            return INTROSPECT_EINVAL;
        }
    }
    return s->line ? 0 : INTROSPECT_EINVAL;
}

int ix_line_table_of_cu(const struct ix_line_sections *s, Dwarf_Die *cu, struct ix_line_table *t)
{
    *t = (struct ix_line_table){0};
    Dwarf_Half version;
    uint8_t unit_type, address_size;
    Dwarf_Attribute a;
    Dwarf_Word off;
    if (ix_dw.dwarf_cu_info(cu->cu, &version, &unit_type, NULL, NULL, NULL, &address_size,
                            NULL) ||
        unit_type == DW_UT_split_compile || unit_type == DW_UT_split_type ||
        !ix_dw.dwarf_attr(cu, DW_AT_stmt_list, &a) ||
        (version >= 4 && a.form != DW_FORM_sec_offset) || /* libdw's __libdw_formptr */
        ix_dw.dwarf_formudata(&a, &off))
        return INTROSPECT_EINVAL;
    const char *comp_dir = ix_dw.dwarf_formstring(ix_dw.dwarf_attr(cu, DW_AT_comp_dir, &a));
    return ix_line_table_decode(s, off, comp_dir, address_size, t);
}
