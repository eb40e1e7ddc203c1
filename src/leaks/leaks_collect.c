/* The sentinel in /metrics: every series present at every scrape (a fixed
 * set: suspects per kind, the top IX_LEAK_TOP growth rates per kind, 0 when
 * there is no such suspect), so alerts can be written on them, plus what
 * the history itself costs. */
#include <stdio.h>

#include "collectors.h"
#include "leaks/history.h"
#include "leaks/leaks.h"

void ix_collect_leaks(struct ix_mset *set)
{
    struct ix_history_info info;
    ix_history_get_info(&info);
    struct ix_leak_summary s;
    ix_leaks_get_summary(&s);
    struct ix_mfamily *f = ix_mset_family(set, "introspect_leak_suspects",
                                          "Series the leak sentinel judges to grow steadily "
                                          "(last judgement, default window), by kind",
                                          IX_GAUGE);
    for (int k = 0; k < IX_LEAK_NKINDS; k++)
        ix_mset_value1(set, f, "kind", ix_leak_kind_name(k), s.count[k]);
    f = ix_mset_family(set, "introspect_leak_growth_bytes_per_hour",
                       "Growth rate of the top heap leak suspects (0: no suspect at that rank)",
                       IX_GAUGE);
    static const char *const ranks[IX_LEAK_TOP] = {"1", "2", "3"};
    for (int i = 0; i < IX_LEAK_TOP; i++)
        ix_mset_value1(set, f, "rank", ranks[i], s.top[IX_LEAK_HEAP][i]);
    f = ix_mset_family(set, "introspect_leak_growth_per_hour",
                       "Growth rate (count per hour) of the top thread, task and descriptor leak "
                       "suspects (0: no suspect at that rank)",
                       IX_GAUGE);
    static const char *const names[2] = {"kind", "rank"};
    for (int k = IX_LEAK_THREADS; k < IX_LEAK_NKINDS; k++)
        for (int i = 0; i < IX_LEAK_TOP; i++) {
            const char *values[2] = {ix_leak_kind_name(k), ranks[i]};
            ix_mset_value(set, f, names, values, 2, s.top[k][i]);
        }
    ix_mset_value0(set, ix_mset_family(set, "introspect_leak_history_snapshots",
                                       "Snapshots the leak history retains", IX_GAUGE),
                   (double)info.snapshots);
    ix_mset_value0(set, ix_mset_family(set, "introspect_leak_history_bytes",
                                       "Memory the leak history uses (budget: "
                                       "INTROSPECT_HISTORY_BUDGET)",
                                       IX_GAUGE),
                   (double)info.used_bytes);
    ix_mset_value0(set, ix_mset_family(set, "introspect_leak_history_span_seconds",
                                       "Time the retained snapshots cover", IX_GAUGE),
                   (double)(info.newest_ns - info.oldest_ns) / 1e9);
}
