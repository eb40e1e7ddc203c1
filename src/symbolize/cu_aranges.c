#include "symbolize/cu_aranges.h"

#include <stdlib.h>
#include <string.h>

#include "symbolize/dwarf_open.h"
#include "symbolize/elfutils_lib.h"
#include "util/grow.h"
#include "util/u64map.h"

/* The bytes of dw's .debug_aranges, plain (libdw inflates what it opens;
 * the lean open inflates them itself), or NULL. */
static const unsigned char *aranges_section(Dwarf *dw, size_t *size)
{
    Elf *elf = ix_dw.dwarf_getelf(dw);
    GElf_Shdr sh;
    Elf_Scn *scn = elf ? ix_elf_section(elf, ".debug_aranges", &sh) : NULL;
    Elf_Data *d;
    if (!scn || sh.sh_type != SHT_PROGBITS || (sh.sh_flags & SHF_COMPRESSED) ||
        !(d = ix_dw.elf_getdata(scn, NULL)) || !d->d_buf)
        return NULL;
    *size = d->d_size;
    return d->d_buf;
}

struct reader {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t read_n(struct reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, n); /* little-endian: only our own process's objects */
    r->p += n;
    return v;
}

/* CU header offset -> its DIE's offset, every CU of .debug_info. */
static int cu_dies(Dwarf *dw, struct ix_u64map *cus)
{
    size_t hsize;
    for (Dwarf_Off off = 0, next;
         ix_dw.dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0; off = next) {
        int added;
        uint64_t *v = ix_u64map_put(cus, off, &added);
        if (!v)
            return -1;
        *v = off + hsize;
    }
    return 0;
}

/* One set (one CU's ranges) from r into *v; marks its CU seen (die + 1 in
 * the map's value's top bit). Returns 0, or -1 when malformed. */
static int read_set(struct reader *r, struct ix_u64map *cus, struct ix_cu_arange **v, size_t *n,
                    size_t *cap)
{
    const unsigned char *start = r->p;
    uint64_t len = read_n(r, 4);
    int off64 = len == 0xffffffffu;
    if (off64)
        len = read_n(r, 8);
    if (r->bad || len > (uint64_t)(r->end - r->p))
        return -1;
    struct reader s = {r->p, r->p + len, 0};
    r->p += len;
    uint64_t version = read_n(&s, 2), info = read_n(&s, off64 ? 8 : 4);
    uint64_t asz = read_n(&s, 1), seg = read_n(&s, 1);
    uint64_t *die = ix_u64map_get(cus, info);
    if (s.bad || version != 2 || (asz != 4 && asz != 8) || seg != 0 || !die)
        return -1;
    *die |= 1ull << 63; /* this CU has its set */
    size_t head = (size_t)(s.p - start), tuple = 2 * (size_t)asz;
    s.p += (tuple - head % tuple) % tuple;
    while (s.p < s.end) {
        uint64_t lo = read_n(&s, asz), size = read_n(&s, asz);
        if (s.bad)
            return -1;
        if (!lo && !size)
            break;
        if (!size || lo + size < lo)
            continue;
        if (ix_grow(v, cap, *n + 1, sizeof **v))
            return -1;
        (*v)[(*n)++] = (struct ix_cu_arange){lo, lo + size, *die & ~(1ull << 63)};
    }
    return 0;
}

static int by_lo(const void *a, const void *b)
{
    const struct ix_cu_arange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Whether every CU got a set. */
static int all_seen(const struct ix_u64map *cus)
{
    for (size_t i = 0; i < cus->cap; i++)
        if (cus->used[i] && !(cus->vals[i] >> 63))
            return 0;
    return 1;
}

int ix_cu_aranges(Dwarf *dw, struct ix_cu_arange **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t size = 0;
    const unsigned char *sec = aranges_section(dw, &size);
    if (!sec)
        return -1;
    struct ix_u64map cus = {0};
    struct ix_cu_arange *v = NULL;
    size_t nv = 0, cap = 0;
    struct reader r = {sec, sec + size, 0};
    int rc = cu_dies(dw, &cus);
    while (rc == 0 && r.p < r.end)
        rc = read_set(&r, &cus, &v, &nv, &cap);
    if (rc || !cus.n || !nv || !all_seen(&cus)) {
        free(v);
        ix_u64map_free(&cus);
        return -1;
    }
    ix_u64map_free(&cus);
    qsort(v, nv, sizeof *v, by_lo);
    *out = v;
    *n = nv;
    return 0;
}
