/* Tiny test harness: assertions that print both sides, a loopback HTTP
 * client, and helpers to run real clients (go tool pprof, promtool, protoc). */
#ifndef IX_TEST_HARNESS_H
#define IX_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ASSERT(c)                                                                         \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);     \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)
#define ASSERT_EQ(a, b)                                                                   \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (a_ != b_) {                                                                   \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                    #a, #b, a_, b_);                                                      \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)
#define ASSERT_STR_CONTAINS(hay, needle)                                                  \
    do {                                                                                  \
        const char *h_ = (hay), *n_ = (needle);                                           \
        if (!h_ || !strstr(h_, n_)) {                                                     \
            fprintf(stderr, "%s:%d: expected to find \"%s\" in:\n%.2000s\n", __FILE__,      \
                    __LINE__, n_, h_ ? h_ : "(null)");                                    \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

struct http_reply {
    int status;
    char *headers; /* raw header block, lower-cased names */
    char *body;    /* NUL-terminated (binary bodies: use body_len) */
    size_t body_len;
};

/* Send a request to 127.0.0.1:port and read the whole reply (Connection: close).
 * extra_headers: "Name: value\r\n..." or NULL. Returns 0 or -1 (connect/IO error). */
int http_request(int port, const char *method, const char *target, const char *extra_headers,
                 const char *body, size_t body_len, struct http_reply *out);
int http_get(int port, const char *target, struct http_reply *out);
/* Value of a response header (case-insensitive name), copied into a static buffer. */
const char *http_header(const struct http_reply *r, const char *name);
void http_reply_free(struct http_reply *r);

/* Run a shell command; returns its exit status and (optionally) its stdout. */
int run_cmd(const char *cmd, char **out);
/* Write data to a fresh temporary file; returns its path (static buffer per call index). */
const char *write_temp(const char *tag, const void *data, size_t n);
/* Start introspect on 127.0.0.1:0 and return the bound port (fails the test otherwise). */
int start_ephemeral(void);

#endif
