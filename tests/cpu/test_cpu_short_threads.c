/* A thread-per-request server: each request is a new thread that burns
 * 2 ms of CPU in handle_request and exits, two at a time. Threads that
 * start during a profile arm themselves in the pthread_create wrapper, so
 * the CPU profile holds the process's CPU, not only the long-lived threads':
 * at 100 Hz and at 1000 Hz the profile's total matches the process CPU of
 * the window (from /proc/self/stat around the request) and handle_request
 * holds the requests' CPU. The process CPU of the profile's own window
 * (its Time and Duration) is read from CLOCK_PROCESS_CPUTIME_ID (what
 * /proc/self/stat reports, in ns) by a monitor thread every 2 ms.
 *
 * Noise: the perf engine counts exact periods per thread with a random
 * first phase, so a thread's count is its CPU/period rounded up or down at
 * random: variance <= p(1-p) per thread (p = 0.2 at 100 Hz). With N request
 * threads the total's standard deviation is sqrt(0.16 N) periods (~2% of
 * the expectation at 100 Hz over 6 s, ~0.3% at 1000 Hz); the window's
 * edges are known to 10 ms (pprof prints the duration so: up to 20 ms of
 * CPU at 2 CPUs). The tolerance is the larger of 5% and 4 standard
 * deviations plus those 20 ms. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "introspect.h"
#include "workload.h"

static _Atomic int stop;
static _Atomic uint64_t nrequests;
volatile uint64_t short_sink;

static long long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* (wall time, process CPU) every 2 ms, to read the CPU of any window. */
#define MAXPTS 20000
static long long pt_wall[MAXPTS], pt_cpu[MAXPTS], pt_req[MAXPTS];
static _Atomic int npts;

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *monitor(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop) && atomic_load(&npts) < MAXPTS) {
        int i = atomic_load(&npts);
        pt_wall[i] = now_ns(CLOCK_REALTIME);
        pt_cpu[i] = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        pt_req[i] = (long long)atomic_load(&nrequests);
        atomic_store(&npts, i + 1);
        usleep(2000);
    }
    return NULL;
}

static double at(const long long *v, long long wall)
{
    int n = atomic_load(&npts);
    ASSERT(n > 1 && pt_wall[0] <= wall && pt_wall[n - 1] >= wall);
    int i = 1;
    while (pt_wall[i] < wall)
        i++;
    double f = (double)(wall - pt_wall[i - 1]) / (double)(pt_wall[i] - pt_wall[i - 1] + 1);
    return (double)v[i - 1] + f * (double)(v[i] - v[i - 1]);
}

/* The process CPU (s) and the requests done in the profile's window, from
 * pprof -raw's Time and Duration. */
static double window_cpu_s(const char *file, double *reqs)
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
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    long long start = (long long)timegm(&tm) * 1000000000LL + (long long)(sec * 1e9);
    free(out);
    long long end = start + (long long)(dur * 1e9);
    *reqs = at(pt_req, end) - at(pt_req, start);
    return (at(pt_cpu, end) - at(pt_cpu, start)) / 1e9;
}

__attribute__((noinline)) void handle_request(void)
{
    long long end = thread_cpu_ns() + 2000000; /* 2 ms of this thread's CPU */
    uint64_t x = short_sink | 1;
    while (thread_cpu_ns() < end)
        for (int i = 0; i < 2000; i++)
            x = x * 6364136223846793005ULL + 1;
    short_sink = x;
}

static void *request_thread(void *arg)
{
    (void)arg;
    handle_request();
    return NULL;
}

/* Two requests at a time, each on a thread of its own, until stopped. */
static void *acceptor(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "acceptor");
    while (!atomic_load(&stop)) {
        pthread_t a, b;
        ASSERT(pthread_create(&a, NULL, request_thread, NULL) == 0);
        ASSERT(pthread_create(&b, NULL, request_thread, NULL) == 0);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        atomic_fetch_add(&nrequests, 1);
    }
    return NULL;
}

/* The value of a `go tool pprof -top -unit=ms` cell ("1234ms" or "0"). */
static double ms_at(const char *p)
{
    return strtod(p, NULL);
}

static void check(int port, long hz, long seconds)
{
    char target[128], cmd[512], *out = NULL;
    const char *file = "/tmp/ix_test_cpu_short_threads.pb.gz";
    snprintf(target, sizeof target, "/debug/pprof/profile?seconds=%ld&hz=%ld", seconds, hz);
    ASSERT_EQ(fetch_to_file(port, target, file), 200);
    double reqs;
    double cpu = window_cpu_s(file, &reqs);

    snprintf(cmd, sizeof cmd, "go tool pprof -top -unit=ms -sample_index=cpu %s 2>&1", file);
    ASSERT_EQ(run_cmd(cmd, &out), 0);
    printf("%s\n", out);
    const char *t = strstr(out, "Total samples = ");
    ASSERT(t);
    double total_ms = ms_at(t + strlen("Total samples = "));
    const char *h = strstr(out, "handle_request");
    ASSERT(h); /* the request function is named */
    while (h > out && h[-1] != '\n')
        h--;
    /* flat flat% sum% cum cum% name: the 4th number is cum */
    double v[4];
    char *end;
    const char *p = h;
    for (int i = 0; i < 4; i++) {
        v[i] = strtod(p, &end);
        p = end;
        while (*p == '%' || *p == ' ' || *p == 'm' || *p == 's')
            p++;
    }
    double handle_ms = v[3];
    double expected_ms = cpu * 1000.0;
    double period_ms = 1000.0 / (double)hz, pr = 2.0 / period_ms;
    double per_thread_var = pr >= 1 ? 0.25 : pr * (1 - pr);
    double sd_ms = sqrt(per_thread_var * 2 * reqs) * period_ms; /* two threads a request */
    /* + the window's edges: pprof prints the duration to 10 ms, at up to 2 CPUs */
    double tol = fmax(0.05, (4 * sd_ms + 20.0) / expected_ms);
    double ratio = total_ms / expected_ms;
    double req_ratio = handle_ms / (reqs * 2.0 * 2.0); /* two threads of 2 ms a request */
    printf("hz %ld: %.0f requests (%.0f ms of their CPU), process CPU %.3f s; profile %.0f ms "
           "(ratio %.3f, tolerance %.3f); handle_request %.0f ms (%.3f of the requests' CPU)\n",
           hz, reqs, reqs * 4.0, cpu, total_ms, ratio, tol, handle_ms, req_ratio);
    ASSERT(reqs > 20);
    ASSERT(fabs(ratio - 1) <= tol);
    /* handle_request's CPU is 2 ms per thread, two threads a request (each
     * thread reads its clock: a little more than 2 ms) */
    ASSERT(fabs(req_ratio - 1) <= tol + 0.03);
    free(out);
    unlink(file);
}

int main(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    ASSERT_EQ(introspect_start(&cfg), 0);
    pthread_t acc, mon;
    ASSERT(pthread_create(&mon, NULL, monitor, NULL) == 0);
    ASSERT(pthread_create(&acc, NULL, acceptor, NULL) == 0);
    usleep(200000);
    check(introspect_port(), 100, 6);
    check(introspect_port(), 1000, 4);
    atomic_store(&stop, 1);
    pthread_join(acc, NULL);
    pthread_join(mon, NULL);
    ASSERT_EQ(introspect_stop(), 0);
    printf("ok\n");
    return 0;
}
