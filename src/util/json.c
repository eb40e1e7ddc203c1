#include "util/json.h"

#include <math.h>
#include <string.h>

#include "introspect.h"

void ix_json_init(introspect_json *j, ix_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

int ix_json_complete(const introspect_json *j)
{
    return !j->err && j->depth == 0 && j->top_values == 1 && !j->out->oom;
}

/* Length of the valid UTF-8 sequence at s[0..n) (no overlongs, surrogates
 * or code points past U+10FFFF), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || s[0] > 0xf4)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return len;
}

void ix_json_quote_n(ix_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ix_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) { /* JSON is UTF-8: bytes that are not become U+FFFD, as Go does */
            size_t l = utf8_len((const unsigned char *)s + i, n - i);
            if (l) {
                i += l - 1;
                continue;
            }
            ix_buf_put(b, s + run, i - run);
            run = i + 1;
            ix_buf_puts(b, "\\ufffd");
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        ix_buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': ix_buf_puts(b, "\\\""); break;
        case '\\': ix_buf_puts(b, "\\\\"); break;
        case '\n': ix_buf_puts(b, "\\n"); break;
        case '\r': ix_buf_puts(b, "\\r"); break;
        case '\t': ix_buf_puts(b, "\\t"); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ix_buf_put(b, esc, 6);
        }
        }
    }
    ix_buf_put(b, s + run, n - run);
    ix_buf_putc(b, '"');
}

void ix_json_quote(ix_buf *b, const char *s) { ix_json_quote_n(b, s ? s : "", s ? strlen(s) : 0); }

/* Called before every value: emits the separator and checks the grammar. */
static int begin_value(introspect_json *j)
{
    if (j->err)
        return INTROSPECT_EINVAL;
    if (j->depth == 0) {
        if (j->top_values++ > 0)
            j->err = 1;
        return j->err ? INTROSPECT_EINVAL : 0;
    }
    int d = j->depth - 1;
    if (j->is_object[d]) {
        if (!j->key_pending) {
            j->err = 1;
            return INTROSPECT_EINVAL;
        }
        j->key_pending = 0;
        return 0;
    }
    if (j->has_items[d])
        ix_buf_putc(j->out, ',');
    j->has_items[d] = 1;
    return 0;
}

void introspect_json_key(introspect_json *j, const char *key)
{
    if (!j || j->err)
        return;
    int d = j->depth - 1;
    if (d < 0 || !j->is_object[d] || j->key_pending || !key) {
        j->err = 1;
        return;
    }
    if (j->has_items[d])
        ix_buf_putc(j->out, ',');
    j->has_items[d] = 1;
    ix_json_quote(j->out, key);
    ix_buf_putc(j->out, ':');
    j->key_pending = 1;
}

static void open_container(introspect_json *j, int is_object)
{
    if (!j || begin_value(j))
        return;
    if (j->depth >= IX_JSON_MAX_DEPTH) {
        j->err = 1;
        return;
    }
    j->is_object[j->depth] = (unsigned char)is_object;
    j->has_items[j->depth] = 0;
    j->depth++;
    ix_buf_putc(j->out, is_object ? '{' : '[');
}

static void close_container(introspect_json *j, int is_object)
{
    if (!j || j->err)
        return;
    if (j->depth == 0 || j->is_object[j->depth - 1] != is_object || j->key_pending) {
        j->err = 1;
        return;
    }
    j->depth--;
    ix_buf_putc(j->out, is_object ? '}' : ']');
}

void introspect_json_object_begin(introspect_json *j) { open_container(j, 1); }
void introspect_json_object_end(introspect_json *j) { close_container(j, 1); }
void introspect_json_array_begin(introspect_json *j) { open_container(j, 0); }
void introspect_json_array_end(introspect_json *j) { close_container(j, 0); }

void introspect_json_int(introspect_json *j, int64_t v)
{
    if (j && begin_value(j) == 0)
        ix_buf_put_i64(j->out, v);
}

void ix_json_uint(introspect_json *j, uint64_t v)
{
    if (j && begin_value(j) == 0)
        ix_buf_put_u64(j->out, v);
}

void introspect_json_float(introspect_json *j, double v)
{
    if (!j || begin_value(j))
        return;
    if (isnan(v) || isinf(v))
        ix_buf_puts(j->out, "null");
    else
        ix_buf_put_double(j->out, v);
}

void introspect_json_string(introspect_json *j, const char *s)
{
    if (j && begin_value(j) == 0)
        ix_json_quote(j->out, s);
}

void introspect_json_bool(introspect_json *j, int v)
{
    if (j && begin_value(j) == 0)
        ix_buf_puts(j->out, v ? "true" : "false");
}

void introspect_json_null(introspect_json *j)
{
    if (j && begin_value(j) == 0)
        ix_buf_puts(j->out, "null");
}

void ix_json_raw(introspect_json *j, const char *text, size_t n)
{
    if (j && begin_value(j) == 0)
        ix_buf_put(j->out, text, n);
}
