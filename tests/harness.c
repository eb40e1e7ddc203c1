#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <introspect.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- behaviours and failures ---- */
static const char *g_current;

const char *ix_test_current(void)
{
    return g_current ? g_current : program_invocation_short_name;
}

const char *ix_test_strerror(int code)
{
    return introspect_strerror(code);
}

static int g_report_fd = -1; /* a copy of the run's first fd 2 */

void ix_test_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    /* to the standard error the run started with: a test that sends fd 2 to a
     * file for a while (to read what the module logs) must not swallow this */
    dprintf(g_report_fd >= 0 ? g_report_fd : 2, "FAIL %s: %s:%d: %s\n", ix_test_current(), file,
            line, msg);
    exit(1);
}

/* s quoted with C escapes (at most ~2000 characters of it), or (null). */
static const char *quoted(const char *s, char *buf, size_t cap)
{
    if (!s)
        return "(null)";
    size_t n = 0;
    buf[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '\\')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c",
                                  c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : (char)c);
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
        else
            buf[n++] = (char)c;
    }
    if (*s)
        n += (size_t)snprintf(buf + n, cap - n, "...");
    snprintf(buf + n, cap - n, "\"");
    return buf;
}

void ix_test_fail_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                      const char *b)
{
    char qa[2048], qb[2048];
    ix_test_fail(file, line, "%s == %s failed:\n  left:  %s\n  right: %s", ea, eb,
                 quoted(a, qa, sizeof qa), quoted(b, qb, sizeof qb));
}

void ix_test_skip(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "skip %s: %s\n", ix_test_current(), msg);
    exit(77);
}

static int selected(const struct ix_test *list, const struct ix_test *t, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++) {
        int exact = 0;
        for (const struct ix_test *u = list; u->name; u++)
            exact |= strcmp(u->name, argv[i]) == 0;
        if (exact ? strcmp(t->name, argv[i]) == 0 : strstr(t->name, argv[i]) != NULL)
            return 1;
    }
    return 0;
}

/* Run one behaviour; returns its exit status (0 ok, 77 skipped, else failed). */
static int run_one(const struct ix_test *t, int nofork)
{
    if (nofork) {
        g_current = t->name;
        t->fn();
        g_current = NULL;
        return 0;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "FAIL %s: fork: %s\n", t->name, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a killed runner (ctest timeout) takes it along */
        alarm(280); /* watchdog under ctest's 300 s: a hang fails naming the behaviour */
        g_current = t->name;
        t->fn();
        fflush(stdout);
        exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "FAIL %s: waitpid: %s\n", t->name, strerror(errno));
            return 1;
        }
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "FAIL %s: killed by signal %d (%s)\n", t->name, WTERMSIG(st),
                strsignal(WTERMSIG(st)));
        return 1;
    }
    return WEXITSTATUS(st);
}

int ix_run_tests(int argc, char **argv, const struct ix_test *list)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const struct ix_test *t = list; t->name; t++)
            printf("%s\n", t->name);
        return 0;
    }
    for (int i = 1; i < argc; i++) { /* every argument must select something */
        int any = 0;
        for (const struct ix_test *t = list; t->name; t++)
            any |= strstr(t->name, argv[i]) != NULL;
        if (!any) {
            fprintf(stderr, "%s: no behaviour matches \"%s\" (--list shows them)\n",
                    program_invocation_short_name, argv[i]);
            return 2;
        }
    }
    g_report_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
    const char *nf = getenv("IX_TEST_NOFORK");
    int nofork = nf && *nf && strcmp(nf, "0") != 0;
    int passed = 0, failed = 0, skipped = 0;
    for (const struct ix_test *t = list; t->name; t++) {
        if (!selected(list, t, argc, argv))
            continue;
        int rc = run_one(t, nofork);
        if (rc == 0) {
            printf("ok %s\n", t->name);
            passed++;
        } else if (rc == 77) {
            printf("skip %s\n", t->name);
            skipped++;
        } else {
            printf("FAIL %s (exit status %d)\n", t->name, rc);
            failed++;
        }
        fflush(stdout);
    }
    printf("%s: %d passed, %d failed, %d skipped\n", program_invocation_short_name, passed, failed,
           skipped);
    return failed ? 1 : passed == 0 && skipped > 0 ? 77 : 0;
}

int http_request(int port, const char *method, const char *target, const char *extra_headers,
                 const char *body, size_t body_len, struct http_reply *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char *req = NULL;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                           "Content-Length: %zu\r\n\r\n",
                     method, target, port, extra_headers ? extra_headers : "", body_len);
    if (n < 0 || write(fd, req, (size_t)n) != n || (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        free(req);
        close(fd);
        return -1;
    }
    free(req);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (!sep || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
        free(buf);
        return -1;
    }
    size_t hlen = (size_t)(sep - buf);
    out->headers = strndup(buf, hlen);
    for (char *p = out->headers; *p; p++) /* lower-case header names */
        if (p == out->headers || p[-1] == '\n')
            for (char *q = p; *q && *q != ':'; q++)
                *q = (char)tolower((unsigned char)*q);
    out->body_len = len - hlen - 4;
    out->body = malloc(out->body_len + 1);
    memcpy(out->body, sep + 4, out->body_len);
    out->body[out->body_len] = '\0';
    free(buf);
    return 0;
}

int http_get(int port, const char *target, struct http_reply *out)
{
    return http_request(port, "GET", target, NULL, NULL, 0, out);
}

const char *http_header(const struct http_reply *r, const char *name)
{
    static char val[1024];
    char needle[128];
    snprintf(needle, sizeof needle, "\n%s:", name);
    for (char *p = needle; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *h = r->headers ? strstr(r->headers, needle) : NULL;
    if (!h)
        return NULL;
    h += strlen(needle);
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, "\r\n");
    if (n >= sizeof val)
        n = sizeof val - 1;
    memcpy(val, h, n);
    val[n] = '\0';
    return val;
}

void http_reply_free(struct http_reply *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int run_cmd(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *write_temp(const char *tag, const void *data, size_t n)
{
    static char paths[8][256];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 256, "/tmp/introspect-test-%d-%s-XXXXXX", (int)getpid(), tag);
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT(write(fd, data, n) == (ssize_t)n);
    close(fd);
    return path;
}

int start_ephemeral(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    ASSERT_OK(introspect_start(&cfg));
    int port = introspect_port();
    ASSERT_GT(port, 0);
    return port;
}
