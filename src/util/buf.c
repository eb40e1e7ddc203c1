#include "util/buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"

void ix_buf_init(ix_buf *b) { memset(b, 0, sizeof *b); }

void ix_buf_free(ix_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void ix_buf_reset(ix_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

int ix_buf_grow(ix_buf *b, size_t extra)
{
    if (b->oom)
        return INTROSPECT_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need < b->len || (b->limit && need > b->limit + 1)) {
        b->oom = 1;
        return INTROSPECT_ELIMIT;
    }
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return INTROSPECT_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void ix_buf_put(ix_buf *b, const void *p, size_t n)
{
    if (ix_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ix_buf_puts(ix_buf *b, const char *s) { ix_buf_put(b, s, strlen(s)); }

void ix_buf_putc(ix_buf *b, char c) { ix_buf_put(b, &c, 1); }

void ix_buf_vprintf(ix_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        ix_buf_put(b, small, (size_t)n);
    } else if (ix_buf_reserve(b, (size_t)n) == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void ix_buf_printf(ix_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ix_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ix_buf_put_u64(ix_buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ix_buf_put(b, tmp + i, sizeof tmp - (size_t)i);
}

void ix_buf_put_i64(ix_buf *b, int64_t v)
{
    if (v < 0) {
        ix_buf_putc(b, '-');
        ix_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        ix_buf_put_u64(b, (uint64_t)v);
    }
}

/* The host may have called setlocale(LC_NUMERIC, ...), so "%g" can print a
 * comma; JSON and Prometheus need a dot. Fix the separator up afterwards. */
void ix_buf_put_double(ix_buf *b, double v)
{
    if (isnan(v)) {
        ix_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        ix_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (fabs(v) < 1e15 && v == (double)(int64_t)v) { /* range first: the cast is UB beyond it */
        ix_buf_put_i64(b, (int64_t)v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    for (char *p = tmp; *p; p++)
        if (*p == ',')
            *p = '.';
    ix_buf_puts(b, tmp);
}

char *ix_buf_take(ix_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (b->oom) {
        free(p);
        p = NULL;
    }
    memset(b, 0, sizeof *b);
    return p;
}
