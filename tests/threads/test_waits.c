/* Where threads wait, over real HTTP, on a workload with known waits:
 *   t-holder  holds a mutex 7 ms of every 10 ms (absolute schedule)
 *   t-waiter  asks for that mutex as soon as the holder has it, runs in between
 *             (blocked ~70% at wait_for_lock)
 *   t-epoll   in epoll_wait, t-pipe in read on a pipe, t-sleep in nanosleep,
 *   t-masked  in nanosleep with every signal blocked.
 * Every wait loop counts EINTR: the host must never see one.
 *  - the thread dump (default) names every waiting function, for every
 *    thread, including the masked one;
 *  - the off-CPU profile attributes 0.70 +- 0.05 of t-waiter's time to the
 *    lock site (on a quiet machine; the reference is the time the waiter
 *    measures itself in pthread_mutex_lock, which a loaded machine moves).
 *    Noise: ~600 ticks at 97 Hz against a 100 Hz lock cycle (the
 *    phase drifts, so ticks spread evenly over the cycle: systematic
 *    sampling, error well under 0.02), plus the holder's wake-up latency on
 *    a loaded machine, which shifts both edges of the hold alike;
 *  - the wall profile's per-thread totals match the profile's duration
 *    within 5% (on-CPU noise: ~1.5 s of CPU sampled at 97 Hz, ~3% of it);
 *  - the mutex profile (fraction 1) attributes the waiter's delay to the
 *    holder's stack (the unlocker), as Go does;
 *  - go tool pprof -top reads them all, and -tagignore idle=true drops idle waits.
 * Numbers are taken from `go tool pprof -traces` (pprof_traces.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <introspect.h>
#include "harness.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_stop, g_ready, g_held;
static atomic_long g_eintr, g_lock_loops, g_lock_wait_ns, g_lock_runq_ns, g_holder_wait_ns;

/* This thread's time runnable but not running (schedstat's run delay). */
static long long runq_ns(void)
{
    char buf[128] = "";
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f)
        return 0;
    unsigned long long run = 0, wait = 0;
    if (fscanf(f, "%llu %llu", &run, &wait) != 2)
        wait = 0;
    fclose(f);
    (void)buf;
    return (long long)wait;
}
static int g_pipe[2], g_ep;

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(long long t)
{
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
        atomic_fetch_add(&g_eintr, 1);
}

static void named(const char *name)
{
    pthread_setname_np(pthread_self(), name);
    atomic_fetch_add(&g_ready, 1);
}

__attribute__((noinline)) void hold_lock_7_of_10_ms(void)
{
    long long t = mono_ns();
    while (!atomic_load(&g_stop)) {
        long long w0 = mono_ns();
        pthread_mutex_lock(&g_lock);
        atomic_fetch_add(&g_holder_wait_ns, mono_ns() - w0);
        atomic_store(&g_held, 1);
        sleep_until(t + 7000000LL);
        atomic_store(&g_held, 0);
        pthread_mutex_unlock(&g_lock);
        t += 10000000LL;
        sleep_until(t);
    }
    __asm__ volatile("");
}

/* Needs the lock once per cycle, as soon as the holder has it (so the two
 * never race for a free lock: glibc's mutex is not fair). Between, it runs. */
__attribute__((noinline)) void wait_for_lock(void)
{
    while (!atomic_load(&g_stop)) {
        while (!atomic_load(&g_held) && !atomic_load(&g_stop))
            ;
        long long q0 = runq_ns(), t0 = mono_ns();
        pthread_mutex_lock(&g_lock);
        long long t1 = mono_ns(), q1 = runq_ns();
        atomic_fetch_add(&g_lock_wait_ns, t1 - t0);
        atomic_fetch_add(&g_lock_runq_ns, q1 - q0);
        atomic_fetch_add(&g_lock_loops, 1);
        pthread_mutex_unlock(&g_lock);
    }
    __asm__ volatile("");
}

__attribute__((noinline)) void wait_in_epoll(void)
{
    struct epoll_event ev;
    while (!atomic_load(&g_stop))
        if (epoll_wait(g_ep, &ev, 1, 100) < 0 && errno == EINTR)
            atomic_fetch_add(&g_eintr, 1);
    __asm__ volatile("");
}

__attribute__((noinline)) void wait_in_pipe_read(void)
{
    char c;
    for (;;) {
        ssize_t n = read(g_pipe[0], &c, 1);
        if (n < 0 && errno == EINTR) {
            atomic_fetch_add(&g_eintr, 1);
            continue;
        }
        break;
    }
    __asm__ volatile("");
}

__attribute__((noinline)) void sleep_in_nanosleep(void)
{
    while (!atomic_load(&g_stop)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
            atomic_fetch_add(&g_eintr, 1);
    }
    __asm__ volatile("");
}

__attribute__((noinline)) void masked_sleep(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (!atomic_load(&g_stop)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
            atomic_fetch_add(&g_eintr, 1);
    }
    __asm__ volatile("");
}

struct spec {
    const char *name;
    void (*fn)(void);
    const char *fn_name;
};
static const struct spec g_specs[] = {
    {"t-holder", hold_lock_7_of_10_ms, "hold_lock_7_of_10_ms"},
    {"t-waiter", wait_for_lock, "wait_for_lock"},
    {"t-epoll", wait_in_epoll, "wait_in_epoll"},
    {"t-pipe", wait_in_pipe_read, "wait_in_pipe_read"},
    {"t-sleep", sleep_in_nanosleep, "sleep_in_nanosleep"},
    {"t-masked", masked_sleep, "masked_sleep"},
};
#define NSPECS (int)(sizeof g_specs / sizeof g_specs[0])

__attribute__((noinline)) void *run(void *arg)
{
    const struct spec *s = arg;
    named(s->name);
    s->fn();
    return NULL;
}

static char *must_run(const char *cmd)
{
    char *out = NULL;
    int rc = run_cmd(cmd, &out);
    if (rc != 0)
        fprintf(stderr, "%s\n%s\n", cmd, out ? out : "");
    ASSERT_EQ(rc, 0);
    return out;
}

static const char *fetch(int port, const char *target, const char *tag)
{
    struct http_reply r;
    ASSERT(http_get(port, target, &r) == 0);
    if (r.status != 200)
        fprintf(stderr, "%s: %d %s\n", target, r.status, r.body);
    ASSERT_EQ(r.status, 200);
    const char *path = write_temp(tag, r.body, r.body_len);
    http_reply_free(&r);
    return path;
}

static double duration_s(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "gzip -dc %s | protoc --decode perftools.profiles.Profile -I $(dirname %s) %s | "
             "sed -n 's/^duration_nanos: //p'",
             path, getenv("IX_PROFILE_PROTO"), getenv("IX_PROFILE_PROTO"));
    char *out = must_run(cmd);
    double d = atof(out) / 1e9;
    free(out);
    return d;
}

/* Run a python expression over the samples `go tool pprof -traces` decoded
 * (variable s: list of {labels, value, frames}); returns its printed output. */
static char *traces(const char *path, const char *index, const char *expr)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "go tool pprof -traces -sample_index=%s %s 2>/dev/null | python3 %s/tests/threads/"
             "pprof_traces.py > %s.json && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); "
             "print(%s)' %s.json",
             index, path, getenv("IX_SOURCE_DIR"), path, expr, path);
    return must_run(cmd);
}

static void check_dump(int port)
{
    for (int k = 0; k < 5; k++) {
        struct http_reply r;
        ASSERT(http_get(port, "/debug/pprof/threads?debug=2", &r) == 0);
        ASSERT_EQ(r.status, 200);
        for (int i = 0; i < NSPECS; i++) {
            char pat[64], fn[80];
            snprintf(pat, sizeof pat, "\"%s\" [", g_specs[i].name);
            snprintf(fn, sizeof fn, "%s()", g_specs[i].fn_name);
            const char *b = strstr(r.body, pat);
            ASSERT(b);
            const char *e = strstr(b, "\n\n");
            char *block = strndup(b, e ? (size_t)(e - b) : strlen(b));
            ASSERT_STR_CONTAINS(block, fn);
            /* every stack reaches the thread's root */
            ASSERT_STR_CONTAINS(block, "start_thread");
            free(block);
        }
        http_reply_free(&r);
    }
    ASSERT_EQ(atomic_load(&g_eintr), 0);
}

static void check_offcpu(int port)
{
    long long w0 = atomic_load(&g_lock_wait_ns), q0 = atomic_load(&g_lock_runq_ns);
    long long t0 = mono_ns();
    const char *path = fetch(port, "/debug/pprof/offcpu?seconds=8&hz=97", "offcpu");
    long long span = mono_ns() - t0;
    double in_lock = (double)(atomic_load(&g_lock_wait_ns) - w0) / (double)span;
    double runq = (double)(atomic_load(&g_lock_runq_ns) - q0) / (double)span;
    double truth = in_lock - runq; /* blocked in the kernel at the lock site */
    char *top = must_run(strcat(strcpy(malloc(1024), "go tool pprof -top -sample_index=delay "),
                                path));
    ASSERT_STR_CONTAINS(top, "Type: delay");
    ASSERT_STR_CONTAINS(top, "wait_for_lock");
    ASSERT_STR_CONTAINS(top, "wait_in_epoll");
    free(top);
    double d = duration_s(path);
    ASSERT(d > 7.5);
    char expr[1024];
    snprintf(expr, sizeof expr,
             "sum(x[\"value\"] for x in s if x[\"labels\"].get(\"thread\")==\"t-waiter\" and "
             "x[\"labels\"].get(\"state\")==\"futex\" and any(\"wait_for_lock\" in f for f in "
             "x[\"frames\"])) / %f",
             d * 1e9);
    char *out = traces(path, "delay", expr);
    double frac = atof(out);
    free(out);
    /* Runnable after the wait (wake-up latency), charged to the same stack. */
    snprintf(expr, sizeof expr,
             "sum(x[\"value\"] for x in s if x[\"labels\"].get(\"thread\")==\"t-waiter\" and "
             "x[\"labels\"].get(\"state\")==\"runnable\" and any(\"wait_for_lock\" in f for f in "
             "x[\"frames\"])) / %f",
             d * 1e9);
    out = traces(path, "delay", expr);
    double wake = atof(out);
    free(out);
    /* Ticks actually taken (the sampler is starved on a loaded machine). */
    snprintf(expr, sizeof expr, "\"%s\"", "x");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>/dev/null | sed -n 's/.*ticks \\([0-9]*\\).*/\\1/p' | head -1", path);
    out = must_run(cmd);
    double ticks = atof(out);
    free(out);
    /* The ticks are systematic samples (97 Hz against a 100 Hz cycle), not
     * random ones: their error is far below the binomial 4 sigma (0.07 at
     * 800 ticks), measured 0.003-0.02 on this machine. The tolerance is the
     * 0.05 asked for, wider only if the sampler got very few ticks. */
    double p = truth > 0 && truth < 1 ? truth : 0.5;
    double tol = 2 * sqrt(p * (1 - p) / (ticks > 1 ? ticks : 1));
    if (tol < 0.05)
        tol = 0.05;
    fprintf(stderr,
            "off-CPU: t-waiter blocked at the lock site %.3f of %.2f s, runnable after it %.3f; "
            "the workload measured %.3f blocked + %.3f runnable in pthread_mutex_lock (0.70 in "
            "all on a quiet machine); %.0f ticks, tolerance %.3f\n",
            frac, d, wake, truth, runq, ticks, tol);
    /* The workload's own clocks are the reference: on a loaded machine the
     * holder wakes late and the waiter waits for a CPU, so the shares move
     * away from 0.70; the profile must follow them. Noise: binomial over
     * the ticks (4 sigma), at least the 0.05 asked for. */
    /* The waits must be there to be measured: 20 ticks' worth at least
     * (0.70 of the time on a quiet machine, 0.24 seen at load 20, where a
     * fixed 0.2 floor failed). */
    ASSERT(truth * ticks >= 20);
    ASSERT(frac > truth - tol && frac < truth + tol);
    /* Not asserted: the runnable share. After a wait the sampler cannot tell
     * wake-up latency from a preemption later in the same interval, so it
     * over-counts on a loaded machine; printed above for the record. */
    /* Labels: epoll is an idle wait, the lock is not. */
    out = traces(path, "delay",
                 "sorted(set((x[\"labels\"].get(\"thread\"), x[\"labels\"].get(\"state\"), "
                 "x[\"labels\"].get(\"idle\")) for x in s if x[\"labels\"].get(\"thread\") in "
                 "(\"t-epoll\",\"t-waiter\",\"t-pipe\",\"t-masked\")))");
    ASSERT_STR_CONTAINS(out, "('t-epoll', 'epoll_wait', 'true')");
    ASSERT_STR_CONTAINS(out, "('t-waiter', 'futex', 'false')");
    ASSERT_STR_CONTAINS(out, "('t-pipe', 'read', 'false')");
    ASSERT_STR_CONTAINS(out, "('t-masked', 'clock_nanosleep', 'true')");
    free(out);
    ASSERT_EQ(atomic_load(&g_eintr), 0);
}

/* Go's mutex profile: the delay is attributed to the stack that unlocked,
 * i.e. the holder's, not the waiter's. */
static void check_mutex(int port)
{
    ASSERT_EQ(introspect_set_mutex_profile_fraction(1), 0);
    long long h0 = atomic_load(&g_holder_wait_ns);
    const char *path = fetch(port, "/debug/pprof/mutex?seconds=3", "mutex");
    long long holder_waited = atomic_load(&g_holder_wait_ns) - h0;
    ASSERT_EQ(introspect_set_mutex_profile_fraction(0), 1);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "go tool pprof -top -sample_index=delay %s", path);
    char *top = must_run(cmd);
    ASSERT_STR_CONTAINS(top, "Type: delay");
    ASSERT_STR_CONTAINS(top, "hold_lock_7_of_10_ms");
    free(top);
    /* Every attributed stack is the holder's unlock. */
    char *out = traces(path, "delay",
                       "\"%d %d\" % (sum(x[\"value\"] for x in s), sum(x[\"value\"] for x in s "
                       "if any(\"hold_lock_7_of_10_ms\" in f for f in x[\"frames\"])))");
    double total = atof(out), holder = atof(strchr(out, ' ') + 1);
    out[strcspn(out, "\n")] = '\0';
    fprintf(stderr, "mutex: total delay, at the holder's unlock (ns): %s; the holder measured "
            "%.0f ns waiting for the lock itself\n", out, (double)holder_waited);
    ASSERT(total > 0.3e9); /* ~0.5 of 3 s waited */
    /* The rest: the holder waiting for the waiter's own short hold
     * (attributed to the waiter's unlock, as it should), which the holder
     * measures itself: a few ms on a quiet machine, more on a loaded one,
     * where a waiter holding the lock waits for a CPU (the rest reached
     * 4.5% of the total at load 20, a fixed 5% bound's edge). */
    ASSERT(holder > 0.95 * total - (double)holder_waited);
    free(out);
}

static void check_wall(int port)
{
    const char *path = fetch(port, "/debug/pprof/wall?seconds=5&hz=97", "wall");
    char *top = must_run(strcat(strcpy(malloc(1024), "go tool pprof -top -sample_index=wall "),
                                path));
    ASSERT_STR_CONTAINS(top, "Type: wall");
    ASSERT_STR_CONTAINS(top, "wait_for_lock");
    ASSERT_STR_CONTAINS(top, "wait_in_epoll");
    free(top);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "go tool pprof -top -sample_index=wall -tagignore idle=true %s",
             path);
    top = must_run(cmd);
    ASSERT_STR_CONTAINS(top, "wait_for_lock");
    ASSERT(!strstr(top, "wait_in_epoll")); /* idle */
    free(top);
    double d = duration_s(path);
    char expr[1024];
    snprintf(expr, sizeof expr,
             "\" \".join(\"%%s=%%.3f\" %% (t, sum(x[\"value\"] for x in s if "
             "x[\"labels\"].get(\"thread\")==t) / %f) for t in (\"t-holder\",\"t-waiter\","
             "\"t-epoll\",\"t-pipe\",\"t-sleep\",\"t-masked\"))",
             d * 1e9);
    char *out = traces(path, "wall", expr);
    fprintf(stderr, "wall: per-thread totals / duration (%.2f s): %s", d, out);
    for (char *p = out; (p = strchr(p, '=')); p++) {
        double f = atof(p + 1);
        ASSERT(f > 0.95 && f < 1.05);
    }
    free(out);
}

int main(void)
{
    /* A sanitizer's interceptors (built without frame pointers) sit between
     * every blocking call and the kernel, so signal-free walks stop there. */
    const char *san = getenv("IX_SANITIZE");
    if (san && *san) {
        fprintf(stderr, "skipped: sanitizer interceptors stop frame-pointer recovery\n");
        return 77;
    }
    ASSERT_EQ(pipe(g_pipe), 0);
    g_ep = epoll_create1(0);
    ASSERT(g_ep >= 0);
    pthread_t th[NSPECS];
    for (int i = 0; i < NSPECS; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, run, (void *)&g_specs[i]), 0);
    while (atomic_load(&g_ready) < NSPECS)
        usleep(1000);
    int port = start_ephemeral();
    usleep(100 * 1000);
    check_dump(port);
    check_offcpu(port);
    check_mutex(port);
    check_wall(port);
    fprintf(stderr, "EINTR seen by the host: %ld; lock loops %ld\n", atomic_load(&g_eintr),
            atomic_load(&g_lock_loops));
    ASSERT_EQ(atomic_load(&g_eintr), 0);
    atomic_store(&g_stop, 1);
    ASSERT_EQ(write(g_pipe[1], "x", 1), 1);
    for (int i = 0; i < NSPECS; i++)
        pthread_join(th[i], NULL);
    ASSERT(introspect_stop() == 0);
    printf("ok\n");
    return 0;
}
