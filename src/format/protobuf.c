#include "format/protobuf.h"

#include <string.h>

#include "introspect.h"

/* Written in place after one capacity check (a profile has millions of
 * varints: a staging copy per varint was a third of the encoder's time). */
void ix_pb_varint(ix_buf *b, uint64_t v)
{
    if (ix_buf_reserve(b, 10))
        return;
    unsigned char *o = (unsigned char *)b->data + b->len, *start = o;
    while (v >= 0x80) {
        *o++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *o++ = (unsigned char)v;
    b->len += (size_t)(o - start);
    b->data[b->len] = '\0';
}

size_t ix_pb_varint_to(unsigned char *o, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (unsigned char)v;
    return n;
}

static void key(ix_buf *b, int field, int wire) { ix_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

void ix_pb_uint(ix_buf *b, int field, uint64_t v)
{
    if (!v)
        return;
    key(b, field, 0);
    ix_pb_varint(b, v);
}

void ix_pb_int(ix_buf *b, int field, int64_t v) { ix_pb_uint(b, field, (uint64_t)v); }

void ix_pb_bool(ix_buf *b, int field, int v) { ix_pb_uint(b, field, v ? 1 : 0); }

void ix_pb_bytes(ix_buf *b, int field, const void *p, size_t n)
{
    key(b, field, 2);
    ix_pb_varint(b, n);
    ix_buf_put(b, p, n);
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void ix_pb_packed_u64(ix_buf *b, int field, const uint64_t *v, size_t n)
{
    if (!n)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += varint_len(v[i]);
    key(b, field, 2);
    ix_pb_varint(b, len);
    if (ix_buf_reserve(b, len))
        return;
    unsigned char *o = (unsigned char *)b->data + b->len;
    for (size_t i = 0; i < n; i++)
        o += ix_pb_varint_to(o, v[i]);
    b->len += len;
    b->data[b->len] = '\0';
}

void ix_pb_packed_i64(ix_buf *b, int field, const int64_t *v, size_t n)
{
    ix_pb_packed_u64(b, field, (const uint64_t *)v, n);
}

void ix_pb_double(ix_buf *b, int field, double v)
{
    if (v == 0)
        return;
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    key(b, field, 1);
    unsigned char o[8];
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(u >> (8 * i));
    ix_buf_put(b, o, sizeof o);
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

void ix_pb_sint(ix_buf *b, int field, int64_t v) { ix_pb_uint(b, field, zigzag(v)); }

void ix_pb_packed_sint(ix_buf *b, int field, const int64_t *v, size_t n)
{
    if (!n)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += varint_len(zigzag(v[i]));
    key(b, field, 2);
    ix_pb_varint(b, len);
    for (size_t i = 0; i < n; i++)
        ix_pb_varint(b, zigzag(v[i]));
}

int ix_pb_read_varint(struct ix_pb_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 64 && r->p < r->end; s += 7) {
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return INTROSPECT_EINVAL;
}

int ix_pb_next(struct ix_pb_reader *r, struct ix_pb_field *f)
{
    if (r->p >= r->end)
        return 0;
    uint64_t tag;
    if (ix_pb_read_varint(r, &tag))
        return INTROSPECT_EINVAL;
    f->num = (int)(tag >> 3);
    f->wt = (int)(tag & 7);
    switch (f->wt) {
    case 0:
        return ix_pb_read_varint(r, &f->v) ? -1 : 1;
    case 1:
        if (r->end - r->p < 8)
            return INTROSPECT_EINVAL;
        memcpy(&f->v, r->p, 8);
        r->p += 8;
        return 1;
    case 5:
        if (r->end - r->p < 4)
            return INTROSPECT_EINVAL;
        f->v = 0;
        memcpy(&f->v, r->p, 4);
        r->p += 4;
        return 1;
    case 2: {
        uint64_t n;
        if (ix_pb_read_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return INTROSPECT_EINVAL;
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return 1;
    }
    default:
        return INTROSPECT_EINVAL;
    }
}
