#include "http/request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ix_percent_decode(char *s, int plus_is_space)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hexval((unsigned char)p[1]);
            int lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return INTROSPECT_EINVAL;
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else if (*p == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int ix_query_parse(struct ix_request *r, const char *q, size_t n, const char **why)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        if (end > i) {
            if (r->nparams >= IX_MAX_PARAMS) {
                *why = "too many query parameters";
                return INTROSPECT_ELIMIT;
            }
            const char *eq = memchr(q + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (q + i)) : end - i;
            char *k = dup_n(q + i, klen);
            char *v = eq ? dup_n(eq + 1, (size_t)(q + end - eq - 1)) : dup_n("", 0);
            if (!k || !v) {
                free(k);
                free(v);
                *why = "out of memory";
                return INTROSPECT_ENOMEM;
            }
            if (ix_percent_decode(k, 1) || ix_percent_decode(v, 1)) {
                free(k);
                free(v);
                *why = "malformed percent-encoding in query";
                return INTROSPECT_EINVAL;
            }
            r->params[r->nparams].key = k;
            r->params[r->nparams].value = v;
            r->nparams++;
        }
        i = end + 1;
    }
    return 0;
}

int ix_request_parse_uri(struct ix_request *req, const char *uri, const char **why)
{
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    req->path = strndup(uri, plen);
    req->query = strdup(q ? q + 1 : "");
    if (!req->path || !req->query) {
        *why = "out of memory";
        return INTROSPECT_ENOMEM;
    }
    if (ix_percent_decode(req->path, 0)) {
        *why = "malformed percent-encoding in path";
        return INTROSPECT_EINVAL;
    }
    return ix_query_parse(req, req->query, strlen(req->query), why);
}

void ix_request_free(struct ix_request *r)
{
    for (int i = 0; i < r->nparams; i++) {
        free(r->params[i].key);
        free(r->params[i].value);
    }
    r->nparams = 0;
    free(r->path);
    free(r->query);
    r->path = r->query = NULL;
}

const char *ix_param(const struct ix_request *r, const char *key)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].key, key) == 0)
            return r->params[i].value;
    return NULL;
}

int ix_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return *s == '\0' || *end != '\0' || errno ? INTROSPECT_EINVAL : 0;
}

int ix_param_long(const struct ix_request *r, struct ix_response *resp, const char *key,
                  long min, long max, long def, long *out)
{
    const char *v = ix_param(r, key);
    if (!v) {
        *out = def;
        return 0;
    }
    long x;
    if (ix_parse_long(v, &x) || x < min || x > max) {
        ix_respond_error(resp, 400, "invalid value for \"%s\" - must be an integer from %ld to %ld",
                         key, min, max);
        return INTROSPECT_EINVAL;
    }
    *out = x;
    return 0;
}

const char *ix_header(const struct ix_request *r, const char *name)
{
    return r->header_fn ? r->header_fn(r, name) : NULL;
}

int ix_client_gone(const struct ix_request *r)
{
    return r->client_gone_fn ? r->client_gone_fn(r) : 0;
}

static int request_gone(void *r) { return ix_client_gone(r); }

struct ix_cancel ix_request_cancel(const struct ix_request *r)
{
    return (struct ix_cancel){request_gone, (void *)r};
}

void ix_response_init(struct ix_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    ix_buf_init(&resp->body);
    resp->body.limit = IX_MAX_RESPONSE;
}

void ix_response_free(struct ix_response *resp) { ix_buf_free(&resp->body); }

void ix_response_header(struct ix_response *resp, const char *name, const char *fmt, ...)
{
    if (resp->nheaders >= IX_MAX_HEADERS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(resp->headers[resp->nheaders].value, sizeof resp->headers[0].value, fmt, ap);
    va_end(ap);
    resp->headers[resp->nheaders++].name = name;
}

void ix_respond_redirect(struct ix_response *resp, int status, const char *location)
{
    ix_buf_reset(&resp->body);
    resp->nheaders = 0;
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    ix_response_header(resp, "Location", "%s", location);
    ix_buf_printf(&resp->body, "see %s\n", location);
}

void ix_respond_error(struct ix_response *resp, int status, const char *fmt, ...)
{
    ix_buf_reset(&resp->body);
    resp->nheaders = 0;
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    va_list ap;
    va_start(ap, fmt);
    ix_buf_vprintf(&resp->body, fmt, ap);
    va_end(ap);
    ix_buf_putc(&resp->body, '\n');
    ix_response_header(resp, "X-Go-Pprof", "1");
}
