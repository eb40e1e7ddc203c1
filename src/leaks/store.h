/* The history's storage, shared by leaks/history.c (which writes it) and
 * leaks/suspects.c (which reads it under the same lock). Nothing else
 * includes this. See leaks/history.h for the idea. */
#ifndef IX_LEAKS_STORE_H
#define IX_LEAKS_STORE_H

#include <pthread.h>
#include <stdint.h>

#include "util/u64map.h"

enum ix_series_kind {
    IX_SERIES_HEAP,    /* key: the sampler bucket's pcs pointer; v = allocs, alloc_bytes, frees, free_bytes */
    IX_SERIES_THREADS, /* key: creating stack id; v = live, created, exited */
    IX_SERIES_TASKS,   /* key: task kind; v[0] = live tasks */
    IX_SERIES_FDS,     /* key: descriptor type (leaks/fdtypes.h); v[0] = open */
    IX_SERIES_PROCESS, /* key: enum ix_process_series; v[0] = the figure */
    IX_SERIES_NKINDS
};

enum ix_process_series {
    IX_PROC_RSS,
    IX_PROC_ALLOC_INUSE,
    IX_PROC_ALLOC_MAPPED,
    IX_PROC_THREADS,
    IX_PROC_FDS,
    IX_PROC_N
};

struct ix_hvals {
    uint64_t v[4];
};

struct ix_hentry {
    uint32_t series;
    struct ix_hvals vals;
};

struct ix_hsnap {
    int64_t t_ns;
    uint32_t n; /* entries: the series that changed since the previous snapshot, by id */
    struct ix_hentry *e;
};

struct ix_hseries {
    uint8_t kind;
    uint8_t suspect; /* the sentinel's last verdict (for "new suspect" reports) */
    uint64_t key;
    const uintptr_t *pcs; /* heap: the sampler's stack (never freed) */
    int npcs;
};

struct ix_store {
    pthread_mutex_t lock;
    struct ix_hseries *series;
    size_t nseries, series_cap;
    struct ix_hvals *base; /* every series at the oldest retained snapshot */
    struct ix_hvals *cur;  /* every series at the newest */
    struct ix_u64map index; /* (kind << 56) ^ key -> series id */
    struct ix_hsnap *snaps; /* oldest first */
    size_t nsnaps, snaps_cap;
    size_t bytes;
    int64_t interval_ns;
};

extern struct ix_store ix_hstore;

/* The sampled live count a series' noise is judged by (see leaks/trend.h). */
static inline double ix_hvals_count(int kind, const struct ix_hvals *v)
{
    return kind == IX_SERIES_HEAP ? (double)(v->v[0] - v->v[2]) : (double)v->v[0];
}

#endif
