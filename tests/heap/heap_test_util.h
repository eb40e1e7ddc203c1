/* Helpers shared by the heap tests: skip under sanitizers, run go tool pprof
 * without the test's LD_PRELOAD, read its -top table. */
#ifndef IX_HEAP_TEST_UTIL_H
#define IX_HEAP_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                       \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IX_TEST_SANITIZED 1
#else
#define IX_TEST_SANITIZED 0
#endif

/* Sanitizer builds compile the interposer out: the heap tests skip (77). */
static inline void skip_if_sanitized(void)
{
    if (IX_TEST_SANITIZED) {
        printf("skipped: sanitizer build (the sanitizer owns malloc)\n");
        exit(77);
    }
}

struct top_row {
    long long flat;
    char name[256];
};

/* Run `go tool pprof -top -unit=B <args>` and parse up to max rows. */
static inline int pprof_top(const char *args, struct top_row *rows, int max, char **raw)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u LD_PRELOAD timeout 120 go tool pprof -top -unit=B -nodefraction=0 "
             "-nodecount=200 %s 2>&1",
             args);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0) {
        fprintf(stderr, "pprof failed (%d): %s\n%s\n", rc, cmd, out ? out : "");
        exit(1);
    }
    int n = 0, in_table = 0;
    for (char *line = strtok(out, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        if (strstr(line, "flat%")) {
            in_table = 1;
            continue;
        }
        if (!in_table)
            continue;
        long long flat, cum;
        char name[256];
        if (sscanf(line, " %lldB %*s %*s %lldB %*s %255[^\n]", &flat, &cum, name) == 3) {
            rows[n].flat = flat;
            snprintf(rows[n].name, sizeof rows[n].name, "%s", name);
            n++;
        }
    }
    if (raw)
        *raw = out;
    else
        free(out);
    return n;
}

static inline long long row_value(const struct top_row *rows, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0)
            return rows[i].flat;
    return 0;
}

#endif
