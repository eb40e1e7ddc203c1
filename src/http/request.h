/* The HTTP request and response as endpoints see them. Endpoints never touch
 * libmicrohttpd: the server fills an ix_request, the router picks a handler,
 * the handler fills an ix_response. */
#ifndef IX_REQUEST_H
#define IX_REQUEST_H

#include <stddef.h>
#include "util/buf.h"
#include "util/cancel.h"

#define IX_MAX_PARAMS 32
#define IX_MAX_HEADERS 8
/* Largest response body: a handler that renders more gets a 500 instead of
 * growing the host's memory without bound. */
#define IX_MAX_RESPONSE ((size_t)256 << 20)

struct ix_param {
    char *key;
    char *value;
};

struct ix_request {
    const char *method; /* "GET", "HEAD", "POST", ... */
    char *path;         /* percent-decoded, without the query */
    char *query;        /* raw query text (may be empty) */
    struct ix_param params[IX_MAX_PARAMS];
    int nparams;
    const char *body; /* POST body (bounded by the server) */
    size_t body_len;
    int client_is_loopback;
    const char *client_addr; /* the client's address as text (no port) */
    /* Provided by the server. */
    const char *(*header_fn)(const struct ix_request *r, const char *name);
    int (*client_gone_fn)(const struct ix_request *r);
    void *conn;
};

struct ix_response {
    int status;
    const char *content_type;
    ix_buf body;
    struct {
        const char *name;
        char value[256];
    } headers[IX_MAX_HEADERS];
    int nheaders;
};

/* Parse an application/x-www-form-urlencoded query into r->params.
 * Returns 0, or INTROSPECT_EINVAL (malformed escape), INTROSPECT_ELIMIT (too
 * many) or INTROSPECT_ENOMEM, with a reason in *why. */
int ix_query_parse(struct ix_request *r, const char *q, size_t n, const char **why);
/* Percent-decode in place; returns INTROSPECT_EINVAL on a malformed escape or a NUL byte. */
int ix_percent_decode(char *s, int plus_is_space);
/* Split a raw request target into path (percent-decoded) and query, and
 * parse the query. Returns 0, or a negative INTROSPECT_E* code with a reason (ix_request_free after). */
int ix_request_parse_uri(struct ix_request *req, const char *uri, const char **why);
void ix_request_free(struct ix_request *r);

/* First value of a query parameter, or NULL. */
const char *ix_param(const struct ix_request *r, const char *key);
/* A whole decimal integer (no sign rules beyond strtol's, no trailing text,
 * no overflow) into *out: 0, or INTROSPECT_EINVAL when s is not one. */
int ix_parse_long(const char *s, long *out);
/* Parse an integer parameter in [min, max]; absent gives def. Returns 0, or
 * INTROSPECT_EINVAL after writing a 400 to resp (name says which parameter). */
int ix_param_long(const struct ix_request *r, struct ix_response *resp, const char *key,
                  long min, long max, long def, long *out);
const char *ix_header(const struct ix_request *r, const char *name);
/* 1 when the client has closed its side (used by long captures). */
int ix_client_gone(const struct ix_request *r);
/* A cancel handle for producers' waits (util/cancel.h): "the client went away". */
struct ix_cancel ix_request_cancel(const struct ix_request *r);

void ix_response_init(struct ix_response *resp);
void ix_response_free(struct ix_response *resp);
void ix_response_header(struct ix_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A redirect (301, 303...) to location, with a one-line text body. */
void ix_respond_redirect(struct ix_response *resp, int status, const char *location);
/* A one-line text/plain error (Go's pprof style, with X-Go-Pprof: 1). */
void ix_respond_error(struct ix_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
