#include "json_check.h"

#include <string.h>

struct jc {
    const char *s;
    size_t n, i;
    int depth;
};

static void ws(struct jc *c)
{
    while (c->i < c->n && strchr(" \t\r\n", c->s[c->i]) && c->s[c->i])
        c->i++;
}

static int lit(struct jc *c, const char *w)
{
    size_t l = strlen(w);
    if (c->n - c->i < l || memcmp(c->s + c->i, w, l))
        return 0;
    c->i += l;
    return 1;
}

static int digits(struct jc *c)
{
    size_t st = c->i;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
        c->i++;
    return c->i > st;
}

static int number(struct jc *c)
{
    if (c->i < c->n && c->s[c->i] == '-')
        c->i++;
    if (c->i < c->n && c->s[c->i] == '0')
        c->i++;
    else if (!digits(c))
        return 0;
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        if (!digits(c))
            return 0;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        if (!digits(c))
            return 0;
    }
    return 1;
}

static int string(struct jc *c)
{
    if (c->i >= c->n || c->s[c->i] != '"')
        return 0;
    c->i++;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i++];
        if (ch == '"')
            return 1;
        if (ch < 0x20)
            return 0;
        if (ch >= 0x80) { /* well-formed UTF-8 only (RFC 8259 section 8.1) */
            size_t len = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
            const unsigned char *u = (const unsigned char *)c->s + c->i - 1;
            if (!len || ch > 0xf4 || c->i - 1 + len > c->n)
                return 0;
            for (size_t k = 1; k < len; k++)
                if ((u[k] & 0xc0) != 0x80)
                    return 0;
            if ((ch == 0xe0 && u[1] < 0xa0) || (ch == 0xed && u[1] > 0x9f) ||
                (ch == 0xf0 && u[1] < 0x90) || (ch == 0xf4 && u[1] > 0x8f))
                return 0;
            c->i += len - 1;
            continue;
        }
        if (ch == '\\') {
            if (c->i >= c->n)
                return 0;
            char e = c->s[c->i++];
            if (e == 'u') {
                for (int k = 0; k < 4; k++, c->i++)
                    if (c->i >= c->n || !strchr("0123456789abcdefABCDEF", c->s[c->i]) || !c->s[c->i])
                        return 0;
            } else if (!strchr("\"\\/bfnrt", e) || !e) {
                return 0;
            }
        }
    }
    return 0;
}

static int value(struct jc *c);

static int container(struct jc *c, char open, char close, int is_obj)
{
    if (++c->depth > 200)
        return 0;
    c->i++; /* open */
    (void)open;
    ws(c);
    if (c->i < c->n && c->s[c->i] == close) {
        c->i++;
        c->depth--;
        return 1;
    }
    for (;;) {
        ws(c);
        if (is_obj) {
            if (!string(c))
                return 0;
            ws(c);
            if (c->i >= c->n || c->s[c->i++] != ':')
                return 0;
        }
        if (!value(c))
            return 0;
        ws(c);
        if (c->i >= c->n)
            return 0;
        char ch = c->s[c->i++];
        if (ch == close) {
            c->depth--;
            return 1;
        }
        if (ch != ',')
            return 0;
    }
}

static int value(struct jc *c)
{
    ws(c);
    if (c->i >= c->n)
        return 0;
    switch (c->s[c->i]) {
    case '{': return container(c, '{', '}', 1);
    case '[': return container(c, '[', ']', 0);
    case '"': return string(c);
    case 't': return lit(c, "true");
    case 'f': return lit(c, "false");
    case 'n': return lit(c, "null");
    default: return number(c);
    }
}

int json_check(const char *s, size_t n)
{
    struct jc c = {s, n, 0, 0};
    if (!value(&c))
        return 0;
    ws(&c);
    return c.i == n;
}
