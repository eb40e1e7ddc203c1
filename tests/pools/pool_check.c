#include "pool_check.h"

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static const char *fetch_vars(int port)
{
    struct http_reply r;
    ASSERT(http_get(port, "/debug/vars", &r) == 0);
    ASSERT_EQ(r.status, 200);
    const char *file = write_temp("vars", r.body, r.body_len);
    http_reply_free(&r);
    return file;
}

static char *python_over_pool(int port, const char *pool, const char *code)
{
    const char *file = fetch_vars(port);
    char script[4096], cmd[1024];
    /* A script file, so expressions may use any quotes. */
    int n = snprintf(script, sizeof script,
                     "import json,sys\n"
                     "d=json.load(open(sys.argv[1]))\n"
                     "p=d['pools'][sys.argv[2]]\n"
                     "%s\n",
                     code);
    const char *py = write_temp("check.py", script, (size_t)n);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' 2>&1", py, file, pool);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    remove(py);
    if (rc != 0) {
        fprintf(stderr, "python over /debug/vars pool %s failed:\n%s\n", pool, out);
        exit(1);
    }
    remove(file);
    return out;
}

long long vars_eval(int port, const char *pool, const char *expr)
{
    char code[1024];
    snprintf(code, sizeof code, "print(int(%s))", expr);
    char *out = python_over_pool(port, pool, code);
    long long v = strtoll(out, NULL, 10);
    free(out);
    return v;
}

void vars_assert(int port, const char *pool, const char *expr)
{
    char code[1024];
    snprintf(code, sizeof code, "assert %s, json.dumps(p, indent=1)", expr);
    free(python_over_pool(port, pool, code));
}

char *pprof_url(int port, const char *args, const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "PPROF_TMPDIR=/tmp HOME=${HOME:-/tmp} go tool pprof %s 'http://127.0.0.1:%d%s' 2>&1",
             args, port, path);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0) {
        fprintf(stderr, "%s\nexited %d:\n%s\n", cmd, rc, out);
        exit(1);
    }
    return out;
}

char *metrics_body(int port)
{
    struct http_reply r;
    ASSERT(http_get(port, "/metrics", &r) == 0);
    ASSERT_EQ(r.status, 200);
    char *body = r.body;
    r.body = NULL;
    http_reply_free(&r);
    return body;
}

void promtool_check(int port)
{
    char *body = metrics_body(port);
    const char *file = write_temp("metrics", body, strlen(body));
    free(body);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' 2>&1", file);
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0 || out[0]) {
        fprintf(stderr, "promtool check metrics (exit %d):\n%s\n", rc, out);
        exit(1);
    }
    free(out);
    remove(file);
}
