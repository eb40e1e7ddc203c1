/* Minimal protobuf writer: varints, length-delimited fields, packed arrays.
 * Nested messages are built in a scratch buffer and copied with their length.
 * And its reader: fields one after another, bounds-checked (the merges of a
 * process tree's pprof and Perfetto parts). */
#ifndef IX_PROTOBUF_H
#define IX_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

void ix_pb_varint(ix_buf *b, uint64_t v);
/* v as a varint at o (room for 10 bytes); returns its length. */
size_t ix_pb_varint_to(unsigned char *o, uint64_t v);
void ix_pb_uint(ix_buf *b, int field, uint64_t v);  /* skipped when 0 */
void ix_pb_int(ix_buf *b, int field, int64_t v);    /* skipped when 0 */
void ix_pb_bool(ix_buf *b, int field, int v);       /* skipped when false */
void ix_pb_bytes(ix_buf *b, int field, const void *p, size_t n); /* always written */
void ix_pb_packed_u64(ix_buf *b, int field, const uint64_t *v, size_t n);
void ix_pb_packed_i64(ix_buf *b, int field, const int64_t *v, size_t n);
void ix_pb_double(ix_buf *b, int field, double v);  /* fixed64; skipped when 0 */
void ix_pb_sint(ix_buf *b, int field, int64_t v);   /* zigzag (sint32/sint64); skipped when 0 */
void ix_pb_packed_sint(ix_buf *b, int field, const int64_t *v, size_t n); /* zigzag */

struct ix_pb_reader {
    const uint8_t *p, *end;
};

struct ix_pb_field {
    int num, wt;
    uint64_t v;           /* varint, fixed64, fixed32 */
    const uint8_t *data;  /* wire type 2 */
    size_t len;
};

/* A varint at r->p (advanced): 0, or INTROSPECT_EINVAL when cut short or too long. */
int ix_pb_read_varint(struct ix_pb_reader *r, uint64_t *v);
/* The next field: 1 with *f filled, 0 at the end, INTROSPECT_EINVAL when malformed. */
int ix_pb_next(struct ix_pb_reader *r, struct ix_pb_field *f);

#endif
