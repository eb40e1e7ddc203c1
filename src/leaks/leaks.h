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
#include "model/leak_report.h"
#include "model/profile.h"

/* Judge the window ending at the newest snapshot (window_ns <= 0: the
 * default, an hour). Returns 0, INTROSPECT_ENOMEM, or INTROSPECT_ENOTSTARTED
 * when the history is off. */
int ix_leaks_analyze(int64_t window_ns, struct ix_leak_report *r);
void ix_leak_report_free(struct ix_leak_report *r);

/* The heap suspects' growth as a delta heap profile (Go's four heap sample
 * types, inuse_space by default; labels rank and growth per hour). Returns 0 or
 * INTROSPECT_ENOMEM. */
int ix_leaks_profile(const struct ix_leak_report *r, struct ix_profile *p);
/* One sample per suspect with a stack (label "suspect" = its index), for
 * encoders that print stacks. Returns 0 or INTROSPECT_ENOMEM. */
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
