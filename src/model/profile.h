/* The profile model: samples of stacks with typed values and labels, as
 * profile.proto sees them, before any encoding. Producers (CPU, heap,
 * threads, block) fill one; every encoder (pprof, text, folded, JSON) reads
 * it through a resolved view that carries symbols and mappings.
 *
 * PC convention: every pc stored in a sample is "return-address like": the
 * instruction of interest is at pc - 1. Unwound return addresses are stored
 * as they are; a producer that has an exact PC (the interrupted instruction
 * of a CPU sample) stores pc + 1. Symbolization and Location.address both
 * use pc - 1, which pprof accepts ("may be in the middle of a call"). */
#ifndef IX_PROFILE_H
#define IX_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define IX_MAX_VALUES 4
#define IX_MAX_LABELS 8 /* thread, tid and up to IX_LABELS_MAX_PAIRS host labels, ... */
#define IX_MAX_COMMENTS 16
#define IX_MAX_PSEUDO 8

struct ix_label {
    const char *key;
    const char *str; /* NULL for a numeric label */
    int64_t num;
    const char *num_unit; /* optional, for numeric labels */
};

struct ix_sample {
    uintptr_t *pcs; /* leaf first */
    int npcs;
    int64_t values[IX_MAX_VALUES];
    struct ix_label labels[IX_MAX_LABELS];
    int nlabels;
    uint64_t hash;
    uint32_t next; /* hash chain, index + 1 (0 = end) */
};

struct ix_value_type {
    const char *type;
    const char *unit;
};

struct ix_profile {
    const char *name; /* "profile", "heap", "allocs", "goroutine", "block" ... */
    struct ix_value_type types[IX_MAX_VALUES];
    int ntypes;
    struct ix_value_type period_type;
    int64_t period;
    int64_t time_nanos;
    int64_t duration_nanos;
    int default_type; /* index into types, -1 = unset */
    char *comments[IX_MAX_COMMENTS];
    int ncomments;
    /* Sampled estimates' precision, per sample type (has_precision = 1):
     * the samples behind each total and its relative standard error
     * (0 when exact; negative when unknown, e.g. no sample). */
    int has_precision;
    int64_t precision_samples[IX_MAX_VALUES];
    double precision_error[IX_MAX_VALUES];
    struct ix_sample *samples;
    size_t nsamples, cap;
    uint32_t *buckets; /* aggregation hash: index + 1 */
    size_t nbuckets;
    struct ix_arena_block *arena;
    int oom;
    /* Named frames that stand for what has no stack (e.g. "[kernel time not
     * sampled]"): pc i + 1 means pseudo[i] (real pcs are never below 4096). */
    const char *pseudo[IX_MAX_PSEUDO];
    int npseudo;
};

void ix_profile_init(struct ix_profile *p, const char *name);
void ix_profile_free(struct ix_profile *p);
/* Add value types in order (type and unit must be static strings). */
void ix_profile_add_type(struct ix_profile *p, const char *type, const char *unit);
void ix_profile_comment(struct ix_profile *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add a sample; identical stacks with identical labels are merged by adding
 * their values. Label strings are copied. Returns 0 or INTROSPECT_ENOMEM. */
int ix_profile_add(struct ix_profile *p, const uintptr_t *pcs, int npcs, const int64_t *values,
                   const struct ix_label *labels, int nlabels);
/* Copy a string into the profile's arena. */
const char *ix_profile_strdup(struct ix_profile *p, const char *s);
/* The pc of a named frame of its own (name copied), to put in a stack like
 * any pc; resolved as a function of that name without address or mapping.
 * The same name gives the same pc. Returns 0 when the table is full. */
uintptr_t ix_profile_pseudo_pc(struct ix_profile *p, const char *name);

/* ---- Resolved view: symbols and mappings, shared by every encoder ---- */
struct ix_rline {
    uint32_t function; /* index into functions */
    int64_t line;
};

struct ix_rlocation {
    uint64_t address; /* pc - 1 */
    uint32_t mapping; /* index + 1 into mappings, 0 = none */
    struct ix_rline *lines; /* inlined callee first */
    int nlines;
    int folded; /* 1: stands for consecutive unsymbolized frames of its mapping */
};

struct ix_rfunction {
    const char *name;
    const char *filename;
};

struct ix_rmapping {
    uint64_t start, limit, offset;
    const char *filename;
    const char *build_id;
    int has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct ix_resolved {
    const struct ix_profile *prof;
    struct ix_rlocation *locations;
    size_t nlocations;
    struct ix_rfunction *functions;
    size_t nfunctions;
    struct ix_rmapping *mappings;
    size_t nmappings;
    uint32_t **sample_locs; /* per sample, parallel to pcs: location index */
    /* After ix_resolved_fold: sample_locs are the folded stacks, of
     * sample_nlocs[i] entries; raw_locs keep the unfolded ones (npcs each). */
    int *sample_nlocs;
    uint32_t **raw_locs;
    struct ix_symbolizer *sym;
    struct ix_arena_block *arena;
    int files_unsymbolized; /* IX_RESOLVE_FILES_UNSYMBOLIZED */
};

/* Symbolize every pc of p. Returns 0 or INTROSPECT_ENOMEM. */
int ix_profile_resolve(const struct ix_profile *p, struct ix_resolved *out);
/* Frames in file-backed mappings keep their address only (their mappings
 * carry path and build ID): for a symbolizer that has the same files, the
 * process tree's root (format/pprof_merge.h). [vdso] is still named. */
#define IX_RESOLVE_FILES_UNSYMBOLIZED 1u
int ix_profile_resolve_opt(const struct ix_profile *p, struct ix_resolved *out, unsigned flags);
void ix_resolved_free(struct ix_resolved *r);
/* For the readable formats (text, folded, JSON; not pprof, where pprof
 * itself folds): consecutive frames of one mapping without symbols become
 * one frame named "[object]" (a stripped program reads as its name, not as
 * a column of addresses), as `go tool pprof` shows them. Returns 0 or
 * INTROSPECT_ENOMEM. */
int ix_resolved_fold(struct ix_resolved *r);
/* Frames in sample i's stack (folded or not). */
static inline int ix_rsample_nlocs(const struct ix_resolved *r, size_t i)
{
    return r->sample_nlocs ? r->sample_nlocs[i] : r->prof->samples[i].npcs;
}
/* The display name of a location's outermost frame (or "0x..." when unknown). */
const char *ix_rloc_name(const struct ix_resolved *r, uint32_t loc, int line_index, char *tmp,
                         size_t tmplen);

#endif
