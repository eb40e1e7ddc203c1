/* Profiles from a leak report: the heap suspects' growth as a delta heap
 * profile (what `go tool pprof -base` would show between the start of each
 * suspect's growth and now, restricted to the suspects), and the suspects'
 * stacks for the text and JSON encoders. */
#include <stdio.h>

#include "leaks/leaks.h"
#include "introspect.h"

int ix_leaks_profile(const struct ix_leak_report *r, struct ix_profile *p)
{
    ix_profile_init(p, "heap");
    ix_profile_add_type(p, "alloc_objects", "count");
    ix_profile_add_type(p, "alloc_space", "bytes");
    ix_profile_add_type(p, "inuse_objects", "count");
    ix_profile_add_type(p, "inuse_space", "bytes");
    p->period_type = (struct ix_value_type){"space", "bytes"};
    p->period = r->heap_rate;
    p->time_nanos = r->now_ns;
    p->duration_nanos = r->covered_ns;
    p->default_type = 3;
    ix_profile_comment(p, "leak suspects: growth of each heap suspect since its growth began, "
                          "window %.0f s, %d snapshots",
                       (double)r->window_ns / 1e9, r->snapshots);
    int others = 0;
    for (int i = 0; i < r->nsuspects; i++) {
        const struct ix_leak_suspect *s = &r->suspects[i];
        if (s->kind != IX_LEAK_HEAP) {
            others++;
            continue;
        }
        struct ix_label l[2] = {{"rank", NULL, s->rank, NULL},
                                {"growth_per_hour", NULL, (int64_t)s->growth_per_hour, "bytes"}};
        if (ix_profile_add(p, s->pcs, s->npcs, s->delta, l, 2))
            return INTROSPECT_ENOMEM;
    }
    if (others)
        ix_profile_comment(p, "%d thread, task or descriptor suspect%s not shown here: see "
                              "/debug/pprof/leaks",
                           others, others == 1 ? "" : "s");
    return p->oom ? INTROSPECT_ENOMEM : 0;
}

int ix_leaks_stacks(const struct ix_leak_report *r, struct ix_profile *p, int *sample_of)
{
    ix_profile_init(p, "leaks");
    ix_profile_add_type(p, "suspects", "count");
    for (int i = 0; i < r->nsuspects; i++) {
        const struct ix_leak_suspect *s = &r->suspects[i];
        sample_of[i] = -1;
        if (s->npcs <= 0)
            continue;
        struct ix_label l = {"suspect", NULL, i, NULL};
        int64_t one = 1;
        size_t before = p->nsamples;
        if (ix_profile_add(p, s->pcs, s->npcs, &one, &l, 1))
            return INTROSPECT_ENOMEM;
        if (p->nsamples == before + 1)
            sample_of[i] = (int)before;
    }
    return 0;
}
