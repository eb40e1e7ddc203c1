/* The process tree's root symbolizing a child's profile while merging it
 * (format/pprof_merge.h), so a tree of N processes that share their objects
 * parses each object once, in the root, not once per process.
 *
 * The child answered with ?symbolize=0: its locations in file-backed
 * mappings carry an address and a mapping (path, build ID) but no line.
 * The root reads the child's /proc/PID/maps itself (never a path from the
 * child's answer, so a child cannot make the root open and reveal another
 * file), finds the object mapped at each address (the same file, checked
 * by device and inode, else /proc/PID/map_files), checks its build ID
 * against the one the child reported, and looks the address up in the
 * process-wide object cache (symbolize/objects.h). A location that cannot
 * be symbolized so (a build-ID mismatch, a mapping gone) keeps its address
 * and is counted, for the merge to say so. */
#ifndef IX_MERGE_SYMBOLS_H
#define IX_MERGE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "format/strtab.h"
#include "util/buf.h"
#include "util/u64map.h"

/* The Function messages the root adds, shared by every part. */
struct ix_msym_fns {
    struct ix_u64map ids; /* name id << 32 | file id -> function id */
    ix_buf out;           /* encoded Function messages (field 5 of Profile) */
    uint64_t next;        /* the next function id */
};

/* One part's symbolization. */
struct ix_msym_part {
    struct ix_symbolizer *sym;
    struct ix_u64map locs;  /* location id -> offset << 16 | length in lines */
    struct ix_u64map maps;  /* mapping id -> what its locations got (merge_symbols.c:
                             * named, not named, named without file, without line) */
    ix_buf lines;           /* encoded Line messages (field 4 of Location), runs per location */
    size_t tried, unresolved;
};

/* first_id: above every function id of every part. */
void ix_msym_fns_init(struct ix_msym_fns *f, uint64_t first_id);
void ix_msym_fns_free(struct ix_msym_fns *f);

/* Symbolize the locations of the decoded profile raw[len] (strs: its string
 * table) that have an address and a mapping and no line, through pid's
 * maps. Names and files go into tab, which borrows them: free the part
 * (ix_msym_part_free) after the table. Returns 0, INTROSPECT_ESYS when
 * pid's maps cannot be read (nothing symbolized), or INTROSPECT_ENOMEM. */
int ix_msym_part_symbolize(struct ix_msym_part *ps, const uint8_t *raw, size_t len,
                           char *const *strs, size_t nstrs, int pid, struct ix_strtab *tab,
                           struct ix_msym_fns *fns);
/* Append the Line messages found for location id to a Location message being written. */
void ix_msym_location_lines(const struct ix_msym_part *ps, uint64_t id, ix_buf *loc);
/* Append has_functions..has_inline_frames to a Mapping message being
 * written when the root named every location of mapping id it was asked to. */
void ix_msym_mapping_flags(const struct ix_msym_part *ps, uint64_t id, ix_buf *map);
void ix_msym_part_free(struct ix_msym_part *ps);

#endif
