/* After each snapshot (on the history's module thread): judge the default
 * window, keep the summary /metrics reads, and with INTROSPECT_LEAK_REPORT=1
 * print one line on stderr the first time a series becomes a suspect. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "leaks/leaks.h"
#include "util/u64map.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_leak_summary g_summary;
/* Every series ever judged a suspect: a suspect near the threshold that
 * comes and goes is reported once. */
static struct ix_u64map g_known;
static int g_report;

void ix_leaks_configure(int report_to_stderr) { g_report = report_to_stderr; }

void ix_leaks_get_summary(struct ix_leak_summary *s)
{
    pthread_mutex_lock(&g_lock);
    *s = g_summary;
    pthread_mutex_unlock(&g_lock);
}

void ix_leaks_reset(void)
{
    pthread_mutex_lock(&g_lock);
    memset(&g_summary, 0, sizeof g_summary);
    ix_u64map_free(&g_known);
    pthread_mutex_unlock(&g_lock);
}

static void human(double v, int bytes, char *out, size_t n)
{
    if (!bytes)
        snprintf(out, n, "%.0f", v);
    else if (v >= 1024.0 * 1024 * 1024 || v <= -1024.0 * 1024 * 1024)
        snprintf(out, n, "%.2fGB", v / (1024.0 * 1024 * 1024));
    else if (v >= 1024.0 * 1024 || v <= -1024.0 * 1024)
        snprintf(out, n, "%.2fMB", v / (1024.0 * 1024));
    else
        snprintf(out, n, "%.2fkB", v / 1024);
}

/* "f (file.c:12) < g < h": the first frames, symbolized. */
static void where(const struct ix_leak_report *r, const struct ix_leak_suspect *s, char *out,
                  size_t n)
{
    out[0] = 0;
    if (s->name) {
        snprintf(out, n, "%s", s->name);
        return;
    }
    struct ix_profile p;
    int idx[1] = {-1};
    struct ix_leak_report one = *r;
    one.suspects = (struct ix_leak_suspect *)s;
    one.nsuspects = 1;
    if (ix_leaks_stacks(&one, &p, idx) == 0 && idx[0] >= 0) {
        struct ix_resolved rv;
        if (ix_profile_resolve(&p, &rv) == 0) {
            size_t len = 0;
            for (int i = 0; i < p.samples[0].npcs && i < 4 && len + 1 < n; i++) {
                char tmp[32];
                const char *name = ix_rloc_name(&rv, rv.sample_locs[0][i], 0, tmp, sizeof tmp);
                len += (size_t)snprintf(out + len, n - len, "%s%s", i ? " < " : "", name);
            }
            ix_resolved_free(&rv);
        }
    }
    ix_profile_free(&p);
}

static void report_new(const struct ix_leak_report *r, const struct ix_leak_suspect *s)
{
    char rate[32], cur[32], at[512];
    int bytes = s->kind == IX_LEAK_HEAP;
    human(s->growth_per_hour, bytes, rate, sizeof rate);
    human(s->current, bytes, cur, sizeof cur);
    where(r, s, at, sizeof at);
    fprintf(stderr,
            "introspect: leak suspect: %s grows %s/h for %s%.0f s (now %s%s), z=%.1f tau=%.2f, "
            "at %s\n",
            ix_leak_kind_name(s->kind), rate, s->since_window_start ? ">= " : "", s->growing_s,
            cur, bytes ? "" : (s->kind == IX_LEAK_THREADS ? " threads" : ""),
            s->trend.poisson_z, s->trend.tau, at[0] ? at : "?");
}

void ix_leaks_after_snapshot(void)
{
    struct ix_leak_report r;
    if (ix_leaks_analyze(0, &r))
        return;
    struct ix_leak_summary sum;
    memset(&sum, 0, sizeof sum);
    sum.valid = 1;
    for (int i = 0; i < r.nsuspects; i++) {
        const struct ix_leak_suspect *s = &r.suspects[i];
        if (sum.count[s->kind] < IX_LEAK_TOP)
            sum.top[s->kind][sum.count[s->kind]] = s->growth_per_hour;
        sum.count[s->kind]++;
    }
    pthread_mutex_lock(&g_lock);
    g_summary = sum;
    for (int i = 0; i < r.nsuspects; i++) {
        int added = 0;
        ix_u64map_put(&g_known, r.suspects[i].key, &added);
        if (g_report && added)
            report_new(&r, &r.suspects[i]);
    }
    pthread_mutex_unlock(&g_lock);
    ix_leak_report_free(&r);
}
