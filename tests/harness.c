#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <introspect.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
    int rc = introspect_start(&cfg);
    if (rc) {
        fprintf(stderr, "introspect_start: %s\n", introspect_strerror(rc));
        exit(1);
    }
    int port = introspect_port();
    ASSERT(port > 0);
    return port;
}
