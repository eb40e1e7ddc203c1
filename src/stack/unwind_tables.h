/* Unwind tables prepared outside the signal handler, so that a sample's
 * stack walk costs a binary search per frame instead of libgcc's DWARF
 * interpretation (measured ~1 us per frame, ~32 us at depth 30).
 *
 * ix_unwind_tables_update() (profiling thread, never a handler) runs every
 * FDE's CFA program of every loaded object once (dl_iterate_phdr, the
 * objects' .eh_frame_hdr/.eh_frame) and keeps, per object, a sorted array of
 * rows "from this pc on: CFA = rsp|rbp + off, saved rbp at CFA + off, return
 * address at CFA - 8 (or none: outermost frame)". A new snapshot is
 * published atomically when objects come or go (dlopen/dlclose, detected by
 * dl_iterate_phdr's adds/subs counters); a replaced snapshot is freed after
 * a grace period (handlers on other threads may still walk with it), row
 * tables are kept per distinct object until no sampler has held them for a
 * while (ix_unwind_tables_hold below). Rules the
 * table cannot express (DWARF expressions, other CFA registers) become
 * "unknown" rows, where the walk stops.
 *
 * Cost: parsing every FDE of the loaded objects once (milliseconds), a few
 * MB for a large process, plus a bucket index of at most one word per row;
 * measured in bench/README.md. */
#ifndef IX_UNWIND_TABLES_H
#define IX_UNWIND_TABLES_H

#include <stdint.h>

#define IX_UROW_NOINFO 1   /* no FDE covers this pc */
#define IX_UROW_UNKNOWN 2  /* FDE rule not expressible here */
#define IX_UROW_OUTERMOST 4 /* return address undefined: end of stack */
#define IX_UROW_RBP_CFA 8  /* CFA is rbp-based (else rsp-based) */
#define IX_UROW_FDE_START 16 /* first row of an FDE: a function's entry point */
#define IX_UROW_NO_RBP INT16_MIN

struct ix_urow {
    uint32_t pc;      /* offset from the object's load base */
    int32_t cfa_off;
    int16_t rbp_off;  /* saved rbp at CFA + rbp_off, or IX_UROW_NO_RBP */
    uint8_t flags;
    uint8_t pad;
};

/* Rows are sorted by pc; bucket[b] is the row in effect at offset
 * rows[0].pc + (b << shift), so a lookup binary-searches only the few rows of
 * one bucket (two or three cache lines) instead of the whole table. */
struct ix_uobject {
    uintptr_t lo, hi; /* executable address range */
    uintptr_t base;
    const struct ix_urow *rows;
    const uint32_t *bucket; /* nbuckets entries, or NULL: search every row */
    uint32_t nrows, nbuckets;
    uint32_t shift;
};

struct ix_usnapshot {
    const struct ix_uobject *objs; /* sorted by lo */
    uint32_t nobjs;
};

/* Build or refresh the tables (cheap when nothing was loaded or unloaded).
 * Returns 0, or INTROSPECT_ENOMEM (the previous snapshot stays). */
int ix_unwind_tables_update(void);
/* A sampler that walks with the tables holds them while it runs: hold
 * builds or refreshes them (as update), unhold lets go. Once no one has held
 * them for INTROSPECT_UNWIND_IDLE_S seconds (default 30; 0: never), a module
 * thread frees them (between ix_unwind_tables_start and _stop). */
int ix_unwind_tables_hold(void);
void ix_unwind_tables_unhold(void);
void ix_unwind_tables_start(void);
void ix_unwind_tables_stop(void);
/* In a forked child: the thread that may have held the update lock is gone.
 * Published snapshots are whole (an atomic pointer); the lock starts fresh. */
void ix_unwind_tables_forked(void);
/* Async-signal-safe: the current snapshot, or NULL. */
const struct ix_usnapshot *ix_unwind_tables_current(void);
/* Async-signal-safe: the row for pc, or NULL when no object covers it.
 * *hint caches the object of the previous lookup (start with NULL). */
const struct ix_urow *ix_unwind_lookup(const struct ix_usnapshot *s, uintptr_t pc,
                                       const struct ix_uobject **hint);

#endif
