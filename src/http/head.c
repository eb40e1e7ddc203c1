#include "http/head.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 token characters (method, field names, codings). */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: visible ASCII, obs-text, SP and HT; no other controls. */
static int is_vchar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static long fail(const char **why, const char *reason, int status)
{
    *why = reason;
    return -status;
}

/* Byte-level rules over what has arrived of the head: no NUL, CR only
 * before LF, LF only after CR. Returns the head's length when its end
 * (CRLF CRLF) is in buf, 0 when not yet, or an error. */
static long scan_bytes(const char *buf, size_t n, size_t start, const char **why)
{
    for (size_t i = start; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0)
            return fail(why, "NUL byte in the request head", 400);
        if (c == '\r' && i + 1 < n && buf[i + 1] != '\n')
            return fail(why, "bare CR in the request head", 400);
        if (c == '\n') {
            if (i == 0 || buf[i - 1] != '\r')
                return fail(why, "bare LF in the request head (lines end in CRLF)", 400);
            if (i >= start + 3 && buf[i - 2] == '\n')
                return (long)(i + 1);
        }
        if (i - start >= IX_HEAD_MAX_BYTES) {
            const char *lf = memchr(buf + start, '\n', i - start);
            return lf ? fail(why, "request header fields too large", 431)
                      : fail(why, "request line too long", 414);
        }
    }
    return 0;
}

static int eq_ci(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int ix_head_find(const struct ix_head *h, const char *name)
{
    for (int i = 0; i < h->nfields; i++)
        if (eq_ci(h->fields[i].name, h->fields[i].nlen, name))
            return i;
    return -1;
}

static int count_fields(const struct ix_head *h, const char *name)
{
    int k = 0;
    for (int i = 0; i < h->nfields; i++)
        k += eq_ci(h->fields[i].name, h->fields[i].nlen, name);
    return k;
}

/* Transfer-Encoding: we take no coded request bodies. Unknown codings are
 * 501 (RFC 9112 6.1), chunked twice or not last is malformed (400), and a
 * valid chunked body gets 411: send a Content-Length. */
static int check_codings(const struct ix_head_field *f, const char **why)
{
    const char *p = f->value, *end = f->value + f->vlen;
    int chunked = 0, last_chunked = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *s = p;
        while (p < end && is_tchar((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - s);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p < end && *p != ',') {
            *why = "malformed Transfer-Encoding (parameters are not supported)";
            return -400;
        }
        if (!len)
            continue;
        if (eq_ci(s, len, "chunked")) {
            chunked++;
            last_chunked = 1;
        } else {
            *why = "unsupported transfer coding in Transfer-Encoding";
            return -501;
        }
    }
    if (chunked != 1 || !last_chunked) {
        *why = chunked ? "chunked applied more than once in Transfer-Encoding"
                       : "empty Transfer-Encoding";
        return -400;
    }
    *why = "chunked request bodies are not supported: send Content-Length";
    return -411;
}

int ix_head_check_fields(struct ix_head *h, const char **why)
{
    static const char *const once[] = {"Host", "Content-Length", "Transfer-Encoding", "Cookie",
                                       "Authorization", "Origin", "Sec-Fetch-Site", "Expect"};
    static const char *const once_why[] = {
        "more than one Host header", "more than one Content-Length header",
        "more than one Transfer-Encoding header", "more than one Cookie header",
        "more than one Authorization header", "more than one Origin header",
        "more than one Sec-Fetch-Site header", "more than one Expect header"};
    for (size_t i = 0; i < sizeof once / sizeof *once; i++)
        if (count_fields(h, once[i]) > 1) {
            *why = once_why[i];
            return -400;
        }
    if (h->minor == 1 && ix_head_find(h, "Host") < 0) {
        *why = "missing Host header (required in HTTP/1.1)";
        return -400;
    }
    int cl = ix_head_find(h, "Content-Length"), te = ix_head_find(h, "Transfer-Encoding");
    if (cl >= 0 && te >= 0) {
        *why = "both Content-Length and Transfer-Encoding (a request smuggling shape)";
        return -400;
    }
    h->content_length = -1;
    if (cl >= 0) {
        const struct ix_head_field *f = &h->fields[cl];
        if (f->vlen == 0) {
            *why = "malformed Content-Length (want digits only)";
            return -400;
        }
        long long v = 0;
        for (size_t i = 0; i < f->vlen; i++) {
            unsigned char c = (unsigned char)f->value[i];
            if (c < '0' || c > '9') {
                *why = "malformed Content-Length (want digits only)";
                return -400;
            }
            if (v >= 0 && v <= (9000000000000000000LL - 9) / 10)
                v = v * 10 + (c - '0');
            else
                v = IX_HEAD_HUGE;
        }
        h->content_length = v;
    }
    if (te >= 0) {
        if (h->minor == 0) {
            *why = "Transfer-Encoding in an HTTP/1.0 request";
            return -400;
        }
        return check_codings(&h->fields[te], why);
    }
    h->expect_continue = 0;
    int ex = ix_head_find(h, "Expect");
    if (ex >= 0) {
        if (!eq_ci(h->fields[ex].value, h->fields[ex].vlen, "100-continue")) {
            *why = "unsupported expectation (only 100-continue)";
            return -417;
        }
        h->expect_continue = 1;
    }
    return 0;
}

static long parse_request_line(const char *p, const char *eol, struct ix_head *h, const char **why)
{
    const char *s = p;
    while (p < eol && is_tchar((unsigned char)*p))
        p++;
    if (p == s || p == eol || *p != ' ' || p - s > 32)
        return fail(why, "malformed request line (want METHOD /path HTTP/1.1)", 400);
    h->method = s;
    h->mlen = (size_t)(p - s);
    s = ++p;
    while (p < eol && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
        p++;
    if (p == s || p == eol || *p != ' ')
        return fail(why, "malformed request line (want METHOD /path HTTP/1.1)", 400);
    h->target = s;
    h->tlen = (size_t)(p - s);
    if (*s != '/')
        return fail(why, "request target must be a path starting with /", 400);
    p++;
    if (eol - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return fail(why, "malformed request line (want METHOD /path HTTP/1.1)", 400);
    if (p[5] != '1' || p[7] > '1')
        return fail(why, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 only)", 505);
    h->minor = p[7] - '0';
    return 0;
}

long ix_head_parse(const char *buf, size_t n, struct ix_head *h, const char **why)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    size_t start = 0;
    while (start + 1 < n && buf[start] == '\r' && buf[start + 1] == '\n' && start < 8)
        start += 2; /* RFC 9112 2.2: ignore empty lines before the request line */
    long len = scan_bytes(buf, n, start, why);
    if (len < 0)
        return len;
    const char *p = buf + start, *end = len ? buf + len - 2 : buf + n; /* end: the final CRLF */
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol || eol + 1 >= buf + n)
        return 0; /* the request line is not complete yet */
    /* Judged as soon as it is complete: HELLO gets its 400 before any header. */
    long rc = parse_request_line(p, eol, h, why);
    if (rc || !len)
        return rc;
    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(end - p));
        if (*p == ' ' || *p == '\t')
            return fail(why, "obsolete line folding in a header field", 400);
        const char *s = p;
        while (p < eol && is_tchar((unsigned char)*p))
            p++;
        if (p == s || p == eol || *p != ':')
            return fail(why, "malformed header field (want Name: value, no space before the colon)",
                        400);
        if (h->nfields == IX_HEAD_MAX_FIELDS)
            return fail(why, "too many header fields", 431);
        struct ix_head_field *f = &h->fields[h->nfields++];
        f->name = s;
        f->nlen = (size_t)(p - s);
        p++;
        while (p < eol && (*p == ' ' || *p == '\t'))
            p++;
        const char *v = p, *ve = eol;
        for (; p < eol; p++)
            if (!is_vchar((unsigned char)*p))
                return fail(why, "control character in a header field value", 400);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        f->value = v;
        f->vlen = (size_t)(ve - v);
    }
    rc = ix_head_check_fields(h, why);
    return rc ? rc : len;
}

void ix_head_cstrings(struct ix_head *h, char *buf, const char *parsed)
{
#define REBASE(ptr) ((ptr) = buf + ((ptr) - parsed))
    REBASE(h->method);
    buf[h->method - buf + (long)h->mlen] = '\0';
    REBASE(h->target);
    buf[h->target - buf + (long)h->tlen] = '\0';
    for (int i = 0; i < h->nfields; i++) {
        struct ix_head_field *f = &h->fields[i];
        REBASE(f->name);
        REBASE(f->value);
        ((char *)f->name)[f->nlen] = '\0';   /* the colon */
        ((char *)f->value)[f->vlen] = '\0'; /* trailing space or the CR */
    }
#undef REBASE
}

const char *ix_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}
