/* JSON writer (the implementation behind the public introspect_json_*).
 * It tracks nesting so misuse (a value where a key is due, unbalanced ends)
 * sets err instead of producing invalid JSON. */
#ifndef IX_JSON_H
#define IX_JSON_H

#include "introspect.h"
#include "util/buf.h"

#define IX_JSON_MAX_DEPTH 32

struct introspect_json {
    ix_buf *out;
    int depth;
    unsigned char is_object[IX_JSON_MAX_DEPTH];
    unsigned char has_items[IX_JSON_MAX_DEPTH];
    int key_pending; /* inside an object: a key was written, value due */
    int top_values;
    int err;
};

void ix_json_init(introspect_json *j, ix_buf *out);
/* 1 when exactly one complete value was written without misuse. */
int ix_json_complete(const introspect_json *j);
/* Write s as a quoted JSON string (UTF-8 passed through, controls escaped). */
void ix_json_quote(ix_buf *b, const char *s);
void ix_json_quote_n(ix_buf *b, const char *s, size_t n);
void ix_json_uint(introspect_json *j, uint64_t v);
/* Insert pre-rendered JSON text as one value (trusted, e.g. a nested render). */
void ix_json_raw(introspect_json *j, const char *text, size_t n);

#endif
