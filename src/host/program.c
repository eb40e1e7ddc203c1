#include "host/program.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Programs that start another program and either exec it or wait for it:
 * never the server a user means to look into. */
const char *const ix_program_wrappers[] = {
    "sh", "dash", "bash", "zsh", "ksh", "mksh", "busybox", "env", "timeout", "nohup",
    "nice", "ionice", "chrt", "taskset", "numactl", "setsid", "stdbuf", "flock", "runuser",
    "su", "sudo", "doas", "setpriv", "gosu", "su-exec", "chpst", "start-stop-daemon",
    "unshare", "nsenter", "tini", "dumb-init", "catatonit", "xargs", "pg_ctl",
    "pg_ctlcluster", "strace", "ltrace", "perf", "time", NULL};

int ix_program_matches(const char *patterns, const char *name)
{
    if (!patterns || !name || !*name)
        return 0;
    char pat[256];
    const char *p = patterns;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < sizeof pat) {
            memcpy(pat, p, n);
            pat[n] = '\0';
            char *s = pat, *e = pat + n;
            while (*s == ' ')
                s++;
            while (e > s && e[-1] == ' ')
                *--e = '\0';
            if (*s && fnmatch(s, name, 0) == 0)
                return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Truncating copy (a name longer than the buffer matches no pattern anyway). */
static void copy_name(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

static void exe_name(char *out, size_t n)
{
    char path[4096];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    out[0] = '\0';
    if (len <= 0)
        return;
    path[len] = '\0';
    /* A deleted (replaced) binary reads "/path/prog (deleted)". */
    char *del = strstr(path, " (deleted)");
    if (del && del[10] == '\0')
        *del = '\0';
    copy_name(out, n, base(path));
}

static void argv0_name(char *out, size_t n)
{
    char buf[4096];
    out[0] = '\0';
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return;
    buf[len] = '\0'; /* argv[0] ends at the first NUL */
    const char *b = base(buf);
    if (*b == '-')
        b++; /* a login shell's "-bash" */
    copy_name(out, n, b);
}

int ix_program_runs_module(char *name, size_t namelen)
{
    char exe[256], arg0[256];
    exe_name(exe, sizeof exe);
    argv0_name(arg0, sizeof arg0);
    if (name && namelen) {
        snprintf(name, namelen, "%s", exe[0] ? exe : arg0);
    }
    const char *want = getenv("INTROSPECT_PROGRAM");
    if (want && *want)
        return ix_program_matches(want, exe) || ix_program_matches(want, arg0);
    for (int i = 0; ix_program_wrappers[i]; i++)
        if (strcmp(exe, ix_program_wrappers[i]) == 0)
            return 0;
    return 1;
}
