#include "format/protobuf.h"

#include <string.h>

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
