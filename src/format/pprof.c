/* Field numbers from profile.proto (perftools.profiles). */
#include "format/pprof.h"
#include "introspect.h"

#include <stdlib.h>
#include <string.h>

#include "format/gzip.h"
#include "format/protobuf.h"
#include "format/strtab.h"

/* A varint field into a small message being built on the stack (as
 * ix_pb_int: skipped when 0); returns its length (<= 11 bytes). */
static size_t field_int(unsigned char *o, int field, int64_t v)
{
    if (!v)
        return 0;
    size_t n = ix_pb_varint_to(o, (uint64_t)field << 3);
    return n + ix_pb_varint_to(o + n, (uint64_t)v);
}

static void value_type(ix_buf *out, int field, struct ix_strtab *st, struct ix_value_type vt)
{
    ix_buf m;
    ix_buf_init(&m);
    ix_pb_int(&m, 1, ix_strtab_id(st, vt.type));
    ix_pb_int(&m, 2, ix_strtab_id(st, vt.unit));
    ix_pb_bytes(out, field, m.data ? m.data : "", m.len);
    ix_buf_free(&m);
}

static void encode_sample(ix_buf *out, ix_buf *m, const struct ix_resolved *r, size_t i,
                          struct ix_strtab *st)
{
    const struct ix_sample *s = &r->prof->samples[i];
    uint64_t ids[256];
    size_t n = (size_t)s->npcs < 256 ? (size_t)s->npcs : 256;
    for (size_t k = 0; k < n; k++)
        ids[k] = (uint64_t)r->sample_locs[i][k] + 1;
    ix_buf_reset(m);
    ix_pb_packed_u64(m, 1, ids, n);
    ix_pb_packed_i64(m, 2, s->values, (size_t)r->prof->ntypes);
    for (int l = 0; l < s->nlabels; l++) { /* Label: at most 4 fields of <= 11 bytes */
        unsigned char lb[48];
        size_t n = 0;
        n += field_int(lb + n, 1, ix_strtab_id(st, s->labels[l].key));
        if (s->labels[l].str) {
            n += field_int(lb + n, 2, ix_strtab_id(st, s->labels[l].str));
        } else {
            n += field_int(lb + n, 3, s->labels[l].num);
            if (s->labels[l].num_unit)
                n += field_int(lb + n, 4, ix_strtab_id(st, s->labels[l].num_unit));
        }
        ix_pb_bytes(m, 3, lb, n);
    }
    ix_pb_bytes(out, 2, m->data ? m->data : "", m->len);
}

static void encode_mapping(ix_buf *out, ix_buf *m, const struct ix_rmapping *mp, size_t id,
                           struct ix_strtab *st)
{
    ix_buf_reset(m);
    ix_pb_uint(m, 1, id);
    ix_pb_uint(m, 2, mp->start);
    ix_pb_uint(m, 3, mp->limit);
    ix_pb_uint(m, 4, mp->offset);
    ix_pb_int(m, 5, ix_strtab_id(st, mp->filename));
    ix_pb_int(m, 6, ix_strtab_id(st, mp->build_id));
    ix_pb_bool(m, 7, mp->has_functions);
    ix_pb_bool(m, 8, mp->has_filenames);
    ix_pb_bool(m, 9, mp->has_line_numbers);
    ix_pb_bool(m, 10, mp->has_inline_frames);
    ix_pb_bytes(out, 3, m->data ? m->data : "", m->len);
}

static void encode_location(ix_buf *out, ix_buf *m, const struct ix_rlocation *l, size_t id)
{
    ix_buf_reset(m);
    ix_pb_uint(m, 1, id);
    ix_pb_uint(m, 2, l->mapping);
    ix_pb_uint(m, 3, l->address);
    for (int k = 0; k < l->nlines; k++) { /* Line: two fields */
        unsigned char ln[24];
        size_t n = field_int(ln, 1, (int64_t)l->lines[k].function + 1);
        n += field_int(ln + n, 2, l->lines[k].line);
        ix_pb_bytes(m, 4, ln, n);
    }
    ix_pb_bytes(out, 4, m->data ? m->data : "", m->len);
}

static void encode_function(ix_buf *out, ix_buf *m, const struct ix_rfunction *f, size_t id,
                            struct ix_strtab *st)
{
    ix_buf_reset(m);
    ix_pb_uint(m, 1, id);
    ix_pb_int(m, 2, ix_strtab_id(st, f->name));
    ix_pb_int(m, 3, ix_strtab_id(st, f->name));
    ix_pb_int(m, 4, ix_strtab_id(st, f->filename));
    ix_pb_bytes(out, 5, m->data ? m->data : "", m->len);
}

int ix_pprof_encode(const struct ix_resolved *r, ix_buf *out)
{
    const struct ix_profile *p = r->prof;
    struct ix_strtab st;
    ix_buf raw, m;
    ix_strtab_init(&st);
    ix_buf_init(&raw);
    ix_buf_init(&m);
    for (int i = 0; i < p->ntypes; i++)
        value_type(&raw, 1, &st, p->types[i]);
    for (size_t i = 0; i < p->nsamples; i++)
        encode_sample(&raw, &m, r, i, &st);
    for (size_t i = 0; i < r->nmappings; i++)
        encode_mapping(&raw, &m, &r->mappings[i], i + 1, &st);
    for (size_t i = 0; i < r->nlocations; i++)
        encode_location(&raw, &m, &r->locations[i], i + 1);
    for (size_t i = 0; i < r->nfunctions; i++)
        encode_function(&raw, &m, &r->functions[i], i + 1, &st);
    ix_pb_int(&raw, 9, p->time_nanos);
    ix_pb_int(&raw, 10, p->duration_nanos);
    if (p->period_type.type)
        value_type(&raw, 11, &st, p->period_type);
    ix_pb_int(&raw, 12, p->period);
    for (int i = 0; i < p->ncomments; i++) {
        ix_pb_varint(&raw, (13 << 3) | 0);
        ix_pb_varint(&raw, (uint64_t)ix_strtab_id(&st, p->comments[i]));
    }
    if (p->default_type >= 0)
        ix_pb_int(&raw, 14, ix_strtab_id(&st, p->types[p->default_type].type));
    /* The string table goes last: every other field has interned its strings. */
    for (size_t i = 0; i < st.n; i++)
        ix_pb_bytes(&raw, 6, st.strs[i], strlen(st.strs[i]));
    int rc = (raw.oom || m.oom || st.oom) ? INTROSPECT_ENOMEM : ix_gzip(raw.data ? raw.data : "", raw.len, out);
    ix_buf_free(&raw);
    ix_buf_free(&m);
    ix_strtab_free(&st);
    return rc;
}
