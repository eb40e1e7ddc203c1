/* /debug/pprof/symbol, as Go's net/http/pprof serves it: program counters
 * in the raw query (GET ?0xADDR+0xADDR) or the body (POST 0xADDR+0xADDR)
 * come back as "0x<addr> <function>" lines after "num_symbols: 1" (pprof
 * only checks that the count is not 0). Addresses without a symbol are left
 * out. `go tool pprof` posts here for mappings whose has_functions is false.
 *
 * Unlike Go, malformed input is a 400 rather than silently skipped, and the
 * number of addresses is bounded (the server already bounds the body). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "symbolize/symbolizer.h"
#include "introspect.h"

#define MAX_ADDRESSES 10000
#define MAX_TOKEN 40

/* Parse one token ("0x1f", or decimal as Go's ParseUint(s, 0, 64) takes);
 * surrounding whitespace is ignored. Returns 1 with *addr, 0 for an empty
 * token, -1 when malformed. */
static int parse_token(const char *s, size_t n, uint64_t *addr)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return 0;
    if (n >= MAX_TOKEN)
        return INTROSPECT_EINVAL;
    char tmp[MAX_TOKEN];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    int base = 10;
    const char *digits = tmp;
    if (n > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X')) {
        base = 16;
        digits += 2;
    }
    for (const char *c = digits; *c; c++)
        if (base == 16 ? !isxdigit((unsigned char)*c) : !isdigit((unsigned char)*c))
            return INTROSPECT_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(digits, &end, base);
    if (errno || *end)
        return INTROSPECT_EINVAL;
    *addr = v;
    return 1;
}

static void answer(struct ix_response *resp, struct ix_symbolizer *sym, uint64_t addr)
{
    struct ix_sym_line lines[16];
    if (addr == 0 || ix_symbolize(sym, (uintptr_t)addr, lines, 16) < 1)
        return;
    ix_buf_printf(&resp->body, "0x%llx %s\n", (unsigned long long)addr, lines[0].function);
}

void ix_ep_symbol(const struct ix_request *req, struct ix_response *resp)
{
    int post = strcmp(req->method, "POST") == 0;
    const char *in = post ? req->body : req->query;
    size_t len = post ? req->body_len : strlen(req->query ? req->query : "");
    if (!in)
        in = "";
    /* Validate everything before answering anything. */
    size_t count = 0;
    for (size_t pos = 0; pos <= len;) {
        size_t end = pos;
        while (end < len && in[end] != '+')
            end++;
        uint64_t a;
        int rc = parse_token(in + pos, end - pos, &a);
        if (rc < 0) {
            char shown[33];
            size_t n = end - pos < 32 ? end - pos : 32;
            for (size_t i = 0; i < n; i++) /* keep the reason on one printable line */
                shown[i] = isprint((unsigned char)in[pos + i]) ? in[pos + i] : '?';
            shown[n] = '\0';
            ix_respond_error(resp, 400, "malformed address \"%s\" (want 0xADDR+0xADDR)", shown);
            return;
        }
        if (rc > 0 && ++count > MAX_ADDRESSES) {
            ix_respond_error(resp, 400, "too many addresses (at most %d)", MAX_ADDRESSES);
            return;
        }
        pos = end + 1;
    }
    resp->content_type = "text/plain; charset=utf-8";
    ix_buf_puts(&resp->body, "num_symbols: 1\n");
    if (count == 0)
        return;
    struct ix_symbolizer *sym = ix_symbolizer_new();
    if (!sym) {
        ix_buf_reset(&resp->body);
        ix_respond_error(resp, 500, "cannot read /proc/self/maps");
        return;
    }
    for (size_t pos = 0; pos <= len;) {
        size_t end = pos;
        while (end < len && in[end] != '+')
            end++;
        uint64_t a;
        if (parse_token(in + pos, end - pos, &a) > 0)
            answer(resp, sym, a);
        pos = end + 1;
    }
    ix_symbolizer_free(sym);
}
