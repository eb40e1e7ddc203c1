/* Growable byte buffer. Allocation failure is sticky: the buffer records it
 * (oom) and ignores further writes, so callers check once at the end. */
#ifndef IX_BUF_H
#define IX_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ix_buf {
    char *data; /* always NUL-terminated when len > 0 and !oom */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = unlimited; exceeding it sets oom */
    int oom;
} ix_buf;

void ix_buf_init(ix_buf *b);
void ix_buf_free(ix_buf *b);
void ix_buf_reset(ix_buf *b);
/* Room for extra more bytes (and the NUL): 0, or the sticky error. */
int ix_buf_grow(ix_buf *b, size_t extra);
/* ix_buf_grow, with the common case (the room is there) inline: a pprof
 * profile writes millions of varints, and the call was a tenth of it. */
static inline int ix_buf_reserve(ix_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (!b->oom && need > b->len && need <= b->cap && (!b->limit || need <= b->limit + 1))
        return 0;
    return ix_buf_grow(b, extra);
}
void ix_buf_put(ix_buf *b, const void *p, size_t n);
void ix_buf_puts(ix_buf *b, const char *s);
void ix_buf_putc(ix_buf *b, char c);
void ix_buf_printf(ix_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ix_buf_vprintf(ix_buf *b, const char *fmt, va_list ap);
void ix_buf_put_i64(ix_buf *b, int64_t v);
void ix_buf_put_u64(ix_buf *b, uint64_t v);
/* Shortest round-trip decimal, always with '.', independent of the locale. */
void ix_buf_put_double(ix_buf *b, double v);
/* Detach the data (caller frees); the buffer is reset. */
char *ix_buf_take(ix_buf *b, size_t *len);

#endif
