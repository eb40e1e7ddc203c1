/* The leak sentinel: from the history (leaks/history.h), the series that
 * grow steadily over a window, ranked by how steadily (leaks/trend.h says
 * how it is judged). Endpoints ask for a report and hand it to an encoder
 * (format/leaks.h); /metrics reads the summary the module thread keeps
 * after each snapshot; INTROSPECT_LEAK_REPORT=1 prints a line on stderr
 * when a new suspect appears. */
#ifndef IX_LEAKS_H
#define IX_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "leaks/trend.h"
#include "model/profile.h"

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

/* Judge the window ending at the newest snapshot (window_ns <= 0: the
 * default, an hour). Returns 0, -1 on OOM, -2 when the history is off. */
int ix_leaks_analyze(int64_t window_ns, struct ix_leak_report *r);
void ix_leak_report_free(struct ix_leak_report *r);
const char *ix_leak_kind_name(enum ix_leak_kind k); /* "heap", "threads", "tasks", "fds" */

/* The heap suspects' growth as a delta heap profile (Go's four heap sample
 * types, inuse_space by default; labels rank and growth per hour). Returns 0 or -1. */
int ix_leaks_profile(const struct ix_leak_report *r, struct ix_profile *p);
/* One sample per suspect with a stack (label "suspect" = its index), for
 * encoders that print stacks. */
int ix_leaks_stacks(const struct ix_leak_report *r, struct ix_profile *p, int *sample_of);

/* What /metrics shows: suspects per kind and the top growth rates. */
struct ix_leak_summary {
    int valid; /* a judgement has been made */
    int count[IX_LEAK_NKINDS];
    double top[IX_LEAK_NKINDS][IX_LEAK_TOP]; /* growth per hour, 0 when no suspect */
};
void ix_leaks_get_summary(struct ix_leak_summary *s);

/* Called by the history (leaks/history.c). */
void ix_leaks_configure(int report_to_stderr);
void ix_leaks_after_snapshot(void);
void ix_leaks_reset(void);

#endif
