/* The leak sentinel's report as encoders see it (format/leaks.h): suspects
 * with their trend evidence, stack and series. Produced by leaks/suspects.c
 * (leaks/leaks.h); how a trend is judged is in leaks/trend.h. */
#ifndef IX_LEAK_REPORT_H
#define IX_LEAK_REPORT_H

#include <stdint.h>

/* The evidence of one series' trend (leaks/trend.h fills it). */
struct ix_trend {
    int suspect;
    const char *why_not; /* the first test that failed, or NULL */
    int onset;           /* index where growth began */
    double growth;       /* count growth over the segment (G) */
    double poisson_z;    /* G / sqrt(c_onset + c_end) */
    double mk_z, tau;    /* Mann-Kendall's normalised S and Kendall's tau over the segment */
    double slope_per_s;  /* Theil-Sen slope of the value, per second */
    double recent_growth, recent_expected;
};

#define IX_LEAK_MAX_FRAMES 64
#define IX_LEAK_TOP 3 /* suspects per kind in /metrics */

enum ix_leak_kind { IX_LEAK_HEAP, IX_LEAK_THREADS, IX_LEAK_TASKS, IX_LEAK_FDS, IX_LEAK_NKINDS };

struct ix_leak_suspect {
    enum ix_leak_kind kind;
    uint64_t key; /* identity across reports: (kind << 56) ^ series key */
    int rank; /* 1 = the steadiest */
    const char *name; /* task kind or descriptor type; NULL for stacks */
    uintptr_t pcs[IX_LEAK_MAX_FRAMES]; /* allocation or creating stack, leaf first */
    int npcs;
    struct ix_trend trend;
    double growth_per_hour; /* bytes (heap) or count, from the Theil-Sen slope */
    double growing_s;       /* since growth began */
    int since_window_start; /* growth began at or before the window's start */
    double current;         /* bytes (heap, estimated) or count */
    double current_objects; /* heap: estimated live objects */
    /* heap: the growth over the segment, unsampled (alloc objects, alloc
     * bytes, inuse objects, inuse bytes), for the delta profile */
    int64_t delta[4];
    int npoints; /* the series over the window, for charts */
    int64_t *t_ns;
    double *values;
};

struct ix_leak_process {
    const char *name; /* "rss_bytes", "allocator_inuse_bytes", ... */
    double current, growth_per_hour;
    int npoints;
    int64_t *t_ns;
    double *values;
};

struct ix_leak_report {
    int64_t now_ns;      /* the newest snapshot */
    int64_t window_ns;   /* asked */
    int64_t covered_ns;  /* what the retained snapshots cover of it */
    int64_t interval_ns;
    int snapshots;       /* in the window */
    int64_t heap_rate;
    char note[128];      /* why there is nothing to judge yet, or "" */
    struct ix_leak_suspect *suspects; /* by rank */
    int nsuspects;
    struct ix_leak_process process[8];
    int nprocess;
};

static inline const char *ix_leak_kind_name(enum ix_leak_kind k)
{
    static const char *const names[IX_LEAK_NKINDS] = {"heap", "threads", "tasks", "fds"};
    return (unsigned)k < IX_LEAK_NKINDS ? names[k] : "unknown";
}

#endif
