#define _GNU_SOURCE
#include "workload.h"

#include <dirent.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

#define UNIT 20000 /* iterations: ~20-40 us of CPU */

static _Atomic int g_stop;
static pthread_t g_threads[16];
static int g_n;
volatile uint64_t cpu_sink;

#ifdef __clang__
#define IX_NOINLINE __attribute__((noinline))
#else
#define IX_NOINLINE __attribute__((noinline, noclone))
#endif

/* The two loops do the same work per unit; the constants differ so the
 * compiler cannot fold the functions into one. */
IX_NOINLINE uint64_t cpu_heavy_three(uint64_t units)
{
    uint64_t x = cpu_sink | 1;
    for (uint64_t i = 0; i < 3 * units * UNIT; i++)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    cpu_sink = x;
    return x;
}

IX_NOINLINE uint64_t cpu_light_one(uint64_t units)
{
    uint64_t x = cpu_sink | 3;
    for (uint64_t i = 0; i < units * UNIT; i++)
        x = x * 2862933555777941757ULL + 3037000493ULL;
    cpu_sink = x;
    return x;
}

static void *busy(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "busy-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        cpu_heavy_three(1);
        cpu_light_one(1);
    }
    return NULL;
}

void workload_start(int n)
{
    atomic_store(&g_stop, 0);
    g_n = n > 16 ? 16 : n;
    for (int i = 0; i < g_n; i++)
        ASSERT(pthread_create(&g_threads[i], NULL, busy, (void *)(intptr_t)i) == 0);
}

void workload_stop(void)
{
    atomic_store(&g_stop, 1);
    for (int i = 0; i < g_n; i++)
        pthread_join(g_threads[i], NULL);
    g_n = 0;
}

int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the DIR itself */
}

int fetch_to_file(int port, const char *target, const char *file)
{
    struct http_reply r;
    ASSERT(http_get(port, target, &r) == 0);
    FILE *f = fopen(file, "wb");
    ASSERT(f);
    fwrite(r.body, 1, r.body_len, f);
    fclose(f);
    int st = r.status;
    if (st != 200)
        fprintf(stderr, "%s -> %d: %s\n", target, st, r.body);
    http_reply_free(&r);
    return st;
}

int perf_available(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.sample_period = 10000000;
    a.exclude_kernel = 1;
    a.disabled = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0) {
        fprintf(stderr, "perf_event_open not allowed here: perf-engine checks skipped\n");
        return 0;
    }
    close(fd);
    return 1;
}

/* Count open descriptors whose /proc/self/fd link satisfies keep. */
static int count_fds_where(int (*keep)(const char *link))
{
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], link[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k > 0) {
            link[k] = '\0';
            n += keep(link);
        }
    }
    closedir(d);
    return n;
}

/* The kinds the CPU profiler opens: perf events and eventfds (anon inodes),
 * /proc files and directories, pipes. Sockets and object files are left
 * out: connection sockets close on their own schedule, and the symbolizer
 * (another module) keeps object files open and, through libdw, loads
 * libdebuginfod and libcurl lazily at a moment that varies. */
static int profiler_kind(const char *link)
{
    return !strncmp(link, "anon_inode:", 11) || !strncmp(link, "/proc/", 6) ||
           !strncmp(link, "pipe:", 5);
}

static int perf_kind(const char *link) { return strstr(link, "perf_event") != NULL; }

int count_profiler_kind_fds(void) { return count_fds_where(profiler_kind) - 1; /* the DIR */ }

int count_perf_fds(void) { return count_fds_where(perf_kind); }

int count_perf_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ASSERT(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "perf_event") != NULL;
    fclose(f);
    return n;
}

/* ---- process CPU over a profile's window ---- */

#define MON_MAX 20000
static long long mon_wall[MON_MAX], mon_cpu[MON_MAX];
static _Atomic int mon_n, mon_stop;
static clockid_t mon_clock;
static pthread_t mon_thread;

static long long clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts))
        return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *monitor(void *arg)
{
    (void)arg;
    while (!atomic_load(&mon_stop) && atomic_load(&mon_n) < MON_MAX) {
        int i = atomic_load(&mon_n);
        long long c = clock_ns(mon_clock);
        if (c < 0)
            break; /* the process is gone */
        mon_wall[i] = clock_ns(CLOCK_REALTIME);
        mon_cpu[i] = c;
        atomic_store(&mon_n, i + 1);
        usleep(2000);
    }
    return NULL;
}

void cpu_monitor_start(pid_t pid)
{
    atomic_store(&mon_n, 0);
    atomic_store(&mon_stop, 0);
    if (pid == 0)
        mon_clock = CLOCK_PROCESS_CPUTIME_ID;
    else
        ASSERT(clock_getcpuclockid(pid, &mon_clock) == 0);
    ASSERT(pthread_create(&mon_thread, NULL, monitor, NULL) == 0);
}

void cpu_monitor_stop(void)
{
    atomic_store(&mon_stop, 1);
    pthread_join(mon_thread, NULL);
}

static double mon_at(long long wall)
{
    int n = atomic_load(&mon_n);
    ASSERT(n > 1 && mon_wall[0] <= wall && mon_wall[n - 1] >= wall);
    int i = 1;
    while (mon_wall[i] < wall)
        i++;
    double f = (double)(wall - mon_wall[i - 1]) / (double)(mon_wall[i] - mon_wall[i - 1] + 1);
    return (double)mon_cpu[i - 1] + f * (double)(mon_cpu[i] - mon_cpu[i - 1]);
}

double cpu_monitor_window(const char *file)
{
    char cmd[300], *out = NULL;
    snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1 | grep -E '^(Time|Duration):'", file);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    int y, mo, d, h, mi;
    double sec, dur;
    const char *t = strstr(out, "Time: "), *du = strstr(out, "Duration: ");
    ASSERT(t && du);
    ASSERT(sscanf(t, "Time: %d-%d-%d %d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) == 6);
    ASSERT(sscanf(du, "Duration: %lf", &dur) == 1);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    long long start = (long long)timegm(&tm) * 1000000000LL + (long long)(sec * 1e9);
    free(out);
    return (mon_at(start + (long long)(dur * 1e9)) - mon_at(start)) / 1e9;
}
