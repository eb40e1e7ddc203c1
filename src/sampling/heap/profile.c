/* Go's heap and allocs profiles from the sampler's buckets
 * (runtime/pprof/protomem.go): four sample types, values unsampled. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "labels/labels.h"
#include "sampling/heap/heap.h"
#include "introspect.h"
#include "util/clock.h"

/* How far the totals can be trusted. Under Poisson sampling the number of
 * samples behind an estimate of B bytes is about B/rate, and its relative
 * standard error about 1/sqrt(samples) (blocks larger than the rate are
 * nearly always sampled, so this is an upper bound for them). At rate 1
 * every allocation is recorded: exact. */
static double rel_error(uint64_t samples, int64_t rate)
{
    if (rate == 1)
        return 0;
    return samples ? 1.0 / sqrt((double)samples) : -1;
}

static void precision_comment(struct ix_profile *p, const char *what, uint64_t samples,
                              int64_t rate)
{
    double e = rel_error(samples, rate);
    if (e == 0)
        ix_profile_comment(p, "%s: %llu samples, exact (every allocation recorded)", what,
                           (unsigned long long)samples);
    else if (e > 0)
        ix_profile_comment(p, "%s: %llu samples, relative error of the total about %.1f%%", what,
                           (unsigned long long)samples, 100.0 * e);
    else
        ix_profile_comment(p, "%s: 0 samples, the totals say nothing (a smaller "
                              "INTROSPECT_HEAP_RATE samples more)", what);
}

static void precision(struct ix_profile *p, uint64_t samples, uint64_t alloc_samples, int64_t rate)
{
    ix_profile_comment(p, "heap sample rate: 1 sample per %lld bytes on average",
                       (long long)rate);
    precision_comment(p, "inuse", samples, rate);
    precision_comment(p, "alloc", alloc_samples, rate);
    p->has_precision = 1;
    for (int i = 0; i < 4; i++) { /* alloc_objects, alloc_space, inuse_objects, inuse_space */
        uint64_t n = i < 2 ? alloc_samples : samples;
        p->precision_samples[i] = (int64_t)n;
        p->precision_error[i] = rel_error(n, rate);
    }
}

int ix_heap_profile(struct ix_profile *p, const char *name)
{
    struct ix_heap_record *r;
    size_t n;
    int64_t now = ix_real_ns();
    if (ix_heap_records(&r, &n)) {
        ix_profile_init(p, name);
        return INTROSPECT_ENOMEM;
    }
    int rc = ix_heap_profile_of(p, name, r, n, now);
    free(r);
    return rc;
}

int ix_heap_profile_of(struct ix_profile *p, const char *name, const struct ix_heap_record *r,
                       size_t n, int64_t time_nanos)
{
    ix_profile_init(p, name);
    ix_profile_add_type(p, "alloc_objects", "count");
    ix_profile_add_type(p, "alloc_space", "bytes");
    ix_profile_add_type(p, "inuse_objects", "count");
    ix_profile_add_type(p, "inuse_space", "bytes");
    p->period_type = (struct ix_value_type){"space", "bytes"};
    int64_t rate = ix_heap_sample_rate();
    p->period = rate;
    p->time_nanos = time_nanos;
    if (name[0] == 'a') /* allocs */
        p->default_type = 1;
    const char *why = ix_heap_unavailable();
    if (why)
        ix_profile_comment(p, "%s", why);
    int rc = 0;
    uint64_t samples = 0, alloc_samples = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t v[4];
        ix_heap_scale(r[i].allocs, r[i].alloc_bytes, rate, &v[0], &v[1]);
        ix_heap_scale(r[i].allocs - r[i].frees, r[i].alloc_bytes - r[i].free_bytes, rate, &v[2],
                      &v[3]);
        /* Go's numeric label: the block size (-tagfocus=bytes=1kb: selects on it). */
        struct ix_label lb[1 + IX_LABELS_MAX_PAIRS];
        int nl = 0;
        if (r[i].size)
            lb[nl++] = (struct ix_label){.key = "bytes", .num = (int64_t)r[i].size, .num_unit = "bytes"};
        const struct ix_labelset *ls = ix_labelset_get(r[i].labels);
        for (int k = 0; ls && k < ls->n; k++)
            lb[nl++] = (struct ix_label){ls->keys[k], ls->vals[k], 0, NULL};
        if (v[0] || v[1] || v[2] || v[3])
            rc = ix_profile_add(p, r[i].pcs, r[i].npcs, v, lb, nl);
        samples += r[i].allocs - r[i].frees;
        alloc_samples += r[i].allocs;
    }
    precision(p, samples, alloc_samples, rate);
    return rc;
}
