/* Process figures from /proc/self: what Go's runtime.MemStats can't say
 * about a C process but on-call engineers ask first (RSS, threads, fds). */
#include "gcstats/process.h"
#include "util/clock.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "introspect.h"

static ssize_t read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

static double boot_time(void)
{
    char buf[8192];
    if (read_file("/proc/stat", buf, sizeof buf) <= 0)
        return 0;
    const char *p = strstr(buf, "\nbtime ");
    return p ? strtod(p + 7, NULL) : 0;
}

/* Fields after the parenthesised comm, which may itself contain spaces. */
static int parse_stat(struct ix_process_stats *st)
{
    char buf[2048];
    if (read_file("/proc/self/stat", buf, sizeof buf) <= 0)
        return INTROSPECT_ESYS;
    const char *p = strrchr(buf, ')');
    if (!p)
        return INTROSPECT_EINVAL;
    unsigned long long minflt, majflt, utime, stime, nthreads, starttime, vsize;
    long long rss;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     * cutime cstime priority nice num_threads itrealvalue starttime vsize rss */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu %*u %llu %llu %*d %*d %*d %*d "
                      "%llu %*d %llu %llu %lld",
               &minflt, &majflt, &utime, &stime, &nthreads, &starttime, &vsize, &rss) != 8)
        return INTROSPECT_EINVAL;
    double hz = (double)sysconf(_SC_CLK_TCK);
    st->minor_faults = minflt;
    st->major_faults = majflt;
    st->user_cpu_seconds = (double)utime / hz;
    st->system_cpu_seconds = (double)stime / hz;
    st->threads = nthreads;
    st->virtual_bytes = vsize;
    st->rss_bytes = (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)sysconf(_SC_PAGESIZE);
    st->start_time_seconds = boot_time() + (double)starttime / hz;
    return 0;
}

static void parse_status(struct ix_process_stats *st)
{
    char buf[4096];
    if (read_file("/proc/self/status", buf, sizeof buf) <= 0)
        return;
    const char *p = strstr(buf, "VmHWM:");
    if (p)
        st->peak_rss_bytes = strtoull(p + 6, NULL, 10) * 1024;
}

static uint64_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* minus the directory's own descriptor */
}

int ix_process_stats_read(struct ix_process_stats *st)
{
    memset(st, 0, sizeof *st);
    int rc = parse_stat(st);
    parse_status(st);
    st->open_fds = count_fds();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        st->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
    if (st->start_time_seconds > 0)
        st->uptime_seconds = ix_now() - st->start_time_seconds;
    return rc;
}

int ix_read_cmdline(ix_buf *out)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return INTROSPECT_ESYS;
    char tmp[4096];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        ix_buf_put(out, tmp, (size_t)n);
    close(fd);
    /* /proc ends each argument with NUL; Go joins with NUL (no trailing one). */
    if (out->len && out->data[out->len - 1] == '\0')
        out->len--;
    return n < 0 ? INTROSPECT_ESYS : 0;
}
