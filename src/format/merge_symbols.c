#include "format/merge_symbols.h"
#include "introspect.h"

#include <string.h>

#include "format/protobuf.h"
#include "symbolize/symbolizer.h"

enum { NAMED = 1, UNNAMED = 2, NO_FILE = 4, NO_LINE = 8 };

void ix_msym_fns_init(struct ix_msym_fns *f, uint64_t first_id)
{
    memset(f, 0, sizeof *f);
    ix_buf_init(&f->out);
    f->next = first_id;
}

void ix_msym_fns_free(struct ix_msym_fns *f)
{
    ix_u64map_free(&f->ids);
    ix_buf_free(&f->out);
}

/* The root's function id for (name, file), added on first sight. 0 on OOM. */
static uint64_t function_id(struct ix_msym_fns *f, struct ix_strtab *tab, const char *name,
                            const char *file)
{
    int64_t n = ix_strtab_id(tab, name), fl = ix_strtab_id(tab, file);
    int added;
    uint64_t *slot = ix_u64map_put(&f->ids, (uint64_t)n << 32 | (uint64_t)fl, &added);
    if (!slot)
        return 0;
    if (added) {
        *slot = f->next++;
        ix_buf m;
        ix_buf_init(&m);
        ix_pb_uint(&m, 1, *slot);
        ix_pb_int(&m, 2, n);
        ix_pb_int(&m, 3, n);
        ix_pb_int(&m, 4, fl);
        ix_pb_bytes(&f->out, 5, m.data ? m.data : "", m.len);
        ix_buf_free(&m);
    }
    return *slot;
}

/* The varint fields of one message that this file reads (by number, up to 7). */
static void read_varints(const uint8_t *p, size_t n, uint64_t v[8], int has_sub[8])
{
    memset(v, 0, 8 * sizeof *v);
    memset(has_sub, 0, 8 * sizeof *has_sub);
    struct ix_pb_reader r = {p, p + n};
    struct ix_pb_field f;
    while (ix_pb_next(&r, &f) == 1)
        if (f.num > 0 && f.num < 8) {
            if (f.wt == 0)
                v[f.num] = f.v;
            else if (f.wt == 2)
                has_sub[f.num] = 1;
        }
}

/* Mapping id -> the build ID string index the child reported. */
static int read_build_ids(const uint8_t *raw, size_t len, struct ix_u64map *bids)
{
    struct ix_pb_reader r = {raw, raw + len};
    struct ix_pb_field f;
    while (ix_pb_next(&r, &f) == 1) {
        if (f.num != 3 || f.wt != 2)
            continue;
        uint64_t v[8];
        int sub[8];
        read_varints(f.data, f.len, v, sub);
        int added;
        uint64_t *slot = ix_u64map_put(bids, v[1], &added);
        if (!slot)
            return INTROSPECT_ENOMEM;
        *slot = v[6];
    }
    return 0;
}

static void mark(struct ix_msym_part *ps, uint64_t map_id, uint64_t bits)
{
    int added;
    uint64_t *slot = ix_u64map_put(&ps->maps, map_id, &added);
    if (slot)
        *slot |= bits;
}

/* One location: its frames as Line messages, or nothing (counted). */
static int symbolize_location(struct ix_msym_part *ps, uint64_t id, uint64_t map_id,
                              uint64_t addr, const char *child_bid, struct ix_strtab *tab,
                              struct ix_msym_fns *fns)
{
    ps->tried++;
    int i = ix_symbolizer_find_mapping(ps->sym, (uintptr_t)addr);
    const struct ix_mapping_info *mi = i >= 0 ? ix_symbolizer_mapping(ps->sym, (size_t)i) : NULL;
    if (!mi || (child_bid[0] && strcmp(mi->build_id ? mi->build_id : "", child_bid))) {
        ps->unresolved++; /* not the file the child maps: its address stays */
        mark(ps, map_id, UNNAMED);
        return 0;
    }
    struct ix_sym_line lines[16];
    int n = ix_symbolize(ps->sym, (uintptr_t)addr, lines, 16);
    if (n == 0) { /* no symbol there: the child would not have named it either */
        mark(ps, map_id, UNNAMED);
        return 0;
    }
    size_t start = ps->lines.len;
    ix_buf l;
    ix_buf_init(&l);
    for (int k = 0; k < n; k++) {
        uint64_t fn = function_id(fns, tab, lines[k].function, lines[k].file);
        if (!fn) {
            ix_buf_free(&l);
            return INTROSPECT_ENOMEM;
        }
        ix_buf_reset(&l);
        ix_pb_uint(&l, 1, fn);
        ix_pb_int(&l, 2, lines[k].line);
        ix_pb_bytes(&ps->lines, 4, l.data ? l.data : "", l.len);
    }
    ix_buf_free(&l);
    int added;
    uint64_t *slot = ix_u64map_put(&ps->locs, id, &added);
    if (!slot || ps->lines.oom)
        return INTROSPECT_ENOMEM;
    *slot = (uint64_t)start << 16 | (uint64_t)(ps->lines.len - start);
    mark(ps, map_id, NAMED | (lines[0].file ? 0 : NO_FILE) | (lines[0].line > 0 ? 0 : NO_LINE));
    return 0;
}

int ix_msym_part_symbolize(struct ix_msym_part *ps, const uint8_t *raw, size_t len,
                           char *const *strs, size_t nstrs, int pid, struct ix_strtab *tab,
                           struct ix_msym_fns *fns)
{
    memset(ps, 0, sizeof *ps);
    ix_buf_init(&ps->lines);
    ps->sym = ix_symbolizer_new_pid(pid);
    if (!ps->sym)
        return INTROSPECT_ESYS;
    struct ix_u64map bids = {0};
    int rc = read_build_ids(raw, len, &bids);
    struct ix_pb_reader r = {raw, raw + len};
    struct ix_pb_field f;
    while (rc == 0 && ix_pb_next(&r, &f) == 1) {
        if (f.num != 4 || f.wt != 2)
            continue;
        uint64_t v[8]; /* Location: 1 id, 2 mapping_id, 3 address, 4 line (repeated) */
        int sub[8];
        read_varints(f.data, f.len, v, sub);
        if (sub[4] || !v[1] || !v[2] || !v[3])
            continue; /* already named, or nothing to look up */
        uint64_t *bid = ix_u64map_get(&bids, v[2]);
        const char *child_bid = bid && *bid < nstrs ? strs[*bid] : "";
        rc = symbolize_location(ps, v[1], v[2], v[3], child_bid, tab, fns);
    }
    ix_u64map_free(&bids);
    return rc;
}

void ix_msym_location_lines(const struct ix_msym_part *ps, uint64_t id, ix_buf *loc)
{
    const uint64_t *slot = ix_u64map_get(&ps->locs, id);
    if (slot)
        ix_buf_put(loc, ps->lines.data + (*slot >> 16), (size_t)(*slot & 0xffff));
}

void ix_msym_mapping_flags(const struct ix_msym_part *ps, uint64_t id, ix_buf *map)
{
    const uint64_t *slot = ix_u64map_get(&ps->maps, id);
    if (!slot || !(*slot & NAMED) || (*slot & UNNAMED))
        return;
    ix_pb_bool(map, 7, 1);
    ix_pb_bool(map, 8, !(*slot & NO_FILE));
    ix_pb_bool(map, 9, !(*slot & NO_LINE));
    ix_pb_bool(map, 10, !(*slot & NO_LINE)); /* inlined frames come with the line tables */
}

void ix_msym_part_free(struct ix_msym_part *ps)
{
    ix_symbolizer_free(ps->sym);
    ix_u64map_free(&ps->locs);
    ix_u64map_free(&ps->maps);
    ix_buf_free(&ps->lines);
    memset(ps, 0, sizeof *ps);
}
