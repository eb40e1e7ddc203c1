/* Tiny test harness: assertions that print both sides, a loopback HTTP
 * client, and helpers to run real clients (go tool pprof, promtool, protoc). */
#ifndef IX_TEST_HARNESS_H
#define IX_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- behaviours (libuv's test-list style) ----
 * A test file is a list of behaviours, each named for what it proves:
 *
 *     TEST(unknown_path_is_404) { ... }
 *     static const struct ix_test tests[] = {TEST_ENTRY(unknown_path_is_404), TEST_LIST_END};
 *     int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
 *
 * ix_run_tests runs each selected behaviour in a forked child, so one failure
 * does not hide the next and no state (a started server, a registered metric,
 * an environment variable) leaks from one behaviour into another. It prints
 * "ok name", "skip name" or "FAIL name: ..." per behaviour and returns 1 if any
 * failed, 77 if all were skipped, else 0. Arguments: `--list` prints the names;
 * otherwise each argument selects the behaviour of that exact name, or, if
 * none has it, every behaviour whose name contains it. IX_TEST_NOFORK=1 runs
 * in-process (for a debugger). Each child gets alarm(280) as a watchdog (a
 * behaviour may set its own). tests/CMakeLists.txt reads the TEST(name) lines
 * and registers one ctest test per behaviour, named file.behaviour. */
struct ix_test {
    const char *name;
    void (*fn)(void);
};
#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) {#name, test_##name}
#define TEST_LIST_END {NULL, NULL}
int ix_run_tests(int argc, char **argv, const struct ix_test *list);

/* The running behaviour's name (the program's name outside ix_run_tests). */
const char *ix_test_current(void);
/* Print "FAIL <behaviour>: file:line: <message>" and exit(1). */
void ix_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* Skip the running behaviour (exit 77, which ctest counts as skipped). */
void ix_test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define SKIP(...) ix_test_skip(__VA_ARGS__)
/* introspect_strerror, without making every test include introspect.h. */
const char *ix_test_strerror(int code);
/* Failure helpers behind the macros below (print both sides). */
void ix_test_fail_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                      const char *b) __attribute__((noreturn));

/* ---- assertions: on failure, print the behaviour, the expression and both values ---- */
#define ASSERT(c)                                                                         \
    do {                                                                                  \
        if (!(c))                                                                         \
            ix_test_fail(__FILE__, __LINE__, "assertion failed: %s", #c);                 \
    } while (0)
/* Integer comparisons (both sides converted to long long). */
#define IX_ASSERT_CMP(a, op, b)                                                           \
    do {                                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);                               \
        if (!(a_ op b_))                                                                  \
            ix_test_fail(__FILE__, __LINE__, "%s %s %s failed: %lld vs %lld", #a, #op, #b, \
                         a_, b_);                                                         \
    } while (0)
#define ASSERT_EQ(a, b) IX_ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) IX_ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) IX_ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) IX_ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b) IX_ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b) IX_ASSERT_CMP(a, >=, b)
/* Doubles within an absolute tolerance. */
#define ASSERT_NEAR(a, b, tol)                                                            \
    do {                                                                                  \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                    \
        if (!(a_ - b_ <= t_ && b_ - a_ <= t_))                                            \
            ix_test_fail(__FILE__, __LINE__, "%s ~= %s (within %g) failed: %.17g vs %.17g", \
                         #a, #b, t_, a_, b_);                                             \
    } while (0)
/* A call that must return 0: prints the code and its introspect_strerror. */
#define ASSERT_OK(expr)                                                                   \
    do {                                                                                  \
        int rc_ = (int)(expr);                                                            \
        if (rc_ != 0)                                                                     \
            ix_test_fail(__FILE__, __LINE__, "%s returned %d (%s), expected 0", #expr,     \
                         rc_, ix_test_strerror(rc_));                                     \
    } while (0)
/* Strings equal (NULL is only equal to NULL). */
#define ASSERT_STR_EQ(a, b)                                                               \
    do {                                                                                  \
        const char *a_ = (a), *b_ = (b);                                                  \
        if (a_ != b_ && (!a_ || !b_ || strcmp(a_, b_) != 0))                              \
            ix_test_fail_str(__FILE__, __LINE__, #a, #b, a_, b_);                         \
    } while (0)
#define ASSERT_STR_CONTAINS(hay, needle)                                                  \
    do {                                                                                  \
        const char *h_ = (hay), *n_ = (needle);                                           \
        if (!h_ || !strstr(h_, n_))                                                       \
            ix_test_fail(__FILE__, __LINE__, "expected to find \"%s\" in %s:\n%.2000s", n_, \
                         #hay, h_ ? h_ : "(null)");                                       \
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
