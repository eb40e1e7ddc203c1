/* The heap sampler, as endpoints and gcstats see it: sampled allocation
 * stacks (Go's heap/allocs profiles), exact allocation counts and the
 * sampler's estimates. How allocations reach it (interposed malloc or
 * tcmalloc's hooks) is in sampling/heap/internal.h. */
#ifndef IX_HEAP_H
#define IX_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model/heap_record.h"
#include "model/profile.h"

/* How the heap is observed in this process. */
enum ix_heap_mode {
    IX_HEAP_MODE_UNSET,      /* the module never started */
    IX_HEAP_MODE_INTERPOSE,  /* our malloc is the process's; forwards to the next allocator */
    IX_HEAP_MODE_HOOKS,      /* tcmalloc precedes us: gperftools MallocHook callbacks */
    IX_HEAP_MODE_NONE,       /* another allocator precedes us and offers no hooks */
    IX_HEAP_MODE_SANITIZER,  /* sanitizer build: the interposer is compiled out */
    IX_HEAP_MODE_BYPASSED,   /* our malloc is first yet never called: a tool (valgrind)
                              * redirects malloc in every object */
    IX_HEAP_MODE_REDIRECT,   /* another allocator precedes us: the GOT slots of malloc and
                              * friends were rebound to our interposer, which forwards to it */
};


struct ix_heap_stats {
    enum ix_heap_mode mode;
    int64_t rate;             /* current sampling rate in bytes; 0 = off */
    int64_t sample_rate;      /* the rate the recorded samples were taken at */
    int counting;             /* 0: the counts below are not kept (sampling off, the
                               * interposer stood aside; or no interposer): all 0 */
    uint64_t mallocs, frees;  /* exact, since each thread's first allocation through us */
    uint64_t total_bytes;     /* exact: bytes requested by those allocations (Go's TotalAlloc) */
    uint64_t samples;         /* live sampled blocks: the inuse estimates rest on these */
    uint64_t alloc_samples;   /* sampled allocations since start: the alloc estimates' */
    uint64_t dropped;         /* samples the address set had no room for */
    uint64_t buckets;         /* distinct sampled (stack, size) buckets */
    uint64_t bucket_bytes;    /* memory mapped for the buckets and their index (BuckHashSys) */
    uint64_t unwind_fallbacks; /* samples unwound by DWARF after the frame-pointer walk */
    /* Estimates from the samples (unsampled as in the profile). */
    double inuse_bytes, inuse_objects, alloc_bytes, alloc_objects;
};

int ix_heap_start(const struct ix_config *cfg, char *why, size_t whylen);
/* Module work on the calling thread (the router's handler guard): its
 * allocations stay out of the host's profiles. A module scope
 * (host/threads.h): a sample point falling inside is redrawn, so the
 * thread's own allocations after it are sampled at the right rate. Nests. */
void ix_heap_exclude_begin(void);
void ix_heap_exclude_end(void);
void ix_heap_stop(void);

enum ix_heap_mode ix_heap_mode(void);
/* The rate recorded samples were taken at (the last non-zero rate), 0 if none. */
int64_t ix_heap_sample_rate(void);
/* "interpose", "tcmalloc hooks", ... */
const char *ix_heap_mode_name(enum ix_heap_mode m);
/* Why the heap profile is empty, or NULL when sampling works. */
const char *ix_heap_unavailable(void);
void ix_heap_get_stats(struct ix_heap_stats *s);
/* The stacks ([lo, hi)) of the live threads that allocated through us, up to
 * max; returns how many were written. */
int ix_heap_thread_stacks(uintptr_t (*ranges)[2], int max);
/* Copy every bucket. *out is malloc'd (caller frees); returns 0 or INTROSPECT_ENOMEM. */
int ix_heap_records(struct ix_heap_record **out, size_t *n);
/* Go's unsampling: estimated (count, bytes) from sampled (count, bytes). */
void ix_heap_scale(uint64_t count, uint64_t bytes, int64_t rate, int64_t *ocount, int64_t *obytes);
/* Build the "heap" or "allocs" profile (Go's four sample types). Returns 0 or INTROSPECT_ENOMEM. */
int ix_heap_profile(struct ix_profile *p, const char *name);
/* The same from given records (a retained snapshot's), stamped time_nanos. */
int ix_heap_profile_of(struct ix_profile *p, const char *name, const struct ix_heap_record *r,
                       size_t n, int64_t time_nanos);

#endif
