/* Go's heap and allocs profiles from the sampler's buckets
 * (runtime/pprof/protomem.go): four sample types, values unsampled. */
#include <stdlib.h>
#include <time.h>

#include "sampling/heap/heap.h"
#include "introspect.h"
#include "util/clock.h"

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
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t v[4];
        ix_heap_scale(r[i].allocs, r[i].alloc_bytes, rate, &v[0], &v[1]);
        ix_heap_scale(r[i].allocs - r[i].frees, r[i].alloc_bytes - r[i].free_bytes, rate, &v[2],
                      &v[3]);
        if (v[0] || v[1] || v[2] || v[3])
            rc = ix_profile_add(p, r[i].pcs, r[i].npcs, v, NULL, 0);
    }
    return rc;
}
