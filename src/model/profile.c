#include "model/profile.h"
#include "introspect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/symbolizer.h"
#include "util/arena.h"
#include "util/grow.h"
#include "util/u64map.h"
#include "util/hash.h"

void ix_profile_init(struct ix_profile *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->default_type = -1;
}

void ix_profile_free(struct ix_profile *p)
{
    free(p->samples);
    free(p->buckets);
    for (int i = 0; i < p->ncomments; i++)
        free(p->comments[i]);
    ix_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

void ix_profile_add_type(struct ix_profile *p, const char *type, const char *unit)
{
    if (p->ntypes < IX_MAX_VALUES)
        p->types[p->ntypes++] = (struct ix_value_type){type, unit};
}

void ix_profile_comment(struct ix_profile *p, const char *fmt, ...)
{
    if (p->ncomments >= IX_MAX_COMMENTS)
        return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *c = strdup(tmp);
    if (c)
        p->comments[p->ncomments++] = c;
}

const char *ix_profile_strdup(struct ix_profile *p, const char *s)
{
    return s ? ix_arena_strdup(&p->arena, s) : NULL;
}

uintptr_t ix_profile_pseudo_pc(struct ix_profile *p, const char *name)
{
    for (int i = 0; i < p->npseudo; i++)
        if (strcmp(p->pseudo[i], name) == 0)
            return (uintptr_t)i + 1;
    if (p->npseudo >= IX_MAX_PSEUDO)
        return 0;
    const char *copy = ix_profile_strdup(p, name);
    if (!copy)
        return 0;
    p->pseudo[p->npseudo++] = copy;
    return (uintptr_t)p->npseudo;
}

static uint64_t str_hash(const char *s) { return ix_hash_str(IX_HASH_INIT, s); }

static uint64_t sample_hash(const uintptr_t *pcs, int n, const struct ix_label *l, int nl)
{
    uint64_t h = ix_hash_pcs(ix_hash_u64(IX_HASH_INIT, (uint64_t)n), pcs, n);
    for (int i = 0; i < nl; i++) {
        h = ix_hash_u64(ix_hash_str(ix_hash_str(h, l[i].key), l[i].str), 0xff);
        h = ix_hash_u64(h, (uint64_t)l[i].num);
    }
    return ix_hash_fold(h);
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_sample(const struct ix_sample *s, const uintptr_t *pcs, int n,
                       const struct ix_label *l, int nl)
{
    if (s->npcs != n || s->nlabels != nl || memcmp(s->pcs, pcs, (size_t)n * sizeof *pcs))
        return 0;
    for (int i = 0; i < nl; i++)
        if (!same_str(s->labels[i].key, l[i].key) || !same_str(s->labels[i].str, l[i].str) ||
            s->labels[i].num != l[i].num || !same_str(s->labels[i].num_unit, l[i].num_unit))
            return 0;
    return 1;
}

static int grow(struct ix_profile *p)
{
    size_t cap = p->cap ? p->cap * 2 : 256;
    struct ix_sample *s = realloc(p->samples, cap * sizeof *s);
    if (!s)
        return INTROSPECT_ENOMEM;
    p->samples = s;
    p->cap = cap;
    uint32_t *b = calloc(cap * 2, sizeof *b);
    if (!b)
        return INTROSPECT_ENOMEM;
    free(p->buckets);
    p->buckets = b;
    p->nbuckets = cap * 2;
    for (size_t i = 0; i < p->nsamples; i++) { /* rehash */
        size_t k = p->samples[i].hash % p->nbuckets;
        p->samples[i].next = p->buckets[k];
        p->buckets[k] = (uint32_t)(i + 1);
    }
    return 0;
}

int ix_profile_add(struct ix_profile *p, const uintptr_t *pcs, int npcs, const int64_t *values,
                   const struct ix_label *labels, int nlabels)
{
    if (nlabels > IX_MAX_LABELS)
        nlabels = IX_MAX_LABELS;
    uint64_t h = sample_hash(pcs, npcs, labels, nlabels);
    if (p->nbuckets) {
        for (uint32_t i = p->buckets[h % p->nbuckets]; i; i = p->samples[i - 1].next) {
            struct ix_sample *s = &p->samples[i - 1];
            if (s->hash == h && same_sample(s, pcs, npcs, labels, nlabels)) {
                for (int v = 0; v < p->ntypes; v++) /* saturate: overflow is UB */
                    if (__builtin_add_overflow(s->values[v], values[v], &s->values[v]))
                        s->values[v] = values[v] > 0 ? INT64_MAX : INT64_MIN;
                return 0;
            }
        }
    }
    if (p->nsamples == p->cap && grow(p)) {
        p->oom = 1;
        return INTROSPECT_ENOMEM;
    }
    struct ix_sample *s = &p->samples[p->nsamples];
    memset(s, 0, sizeof *s);
    s->pcs = ix_arena_alloc(&p->arena, (size_t)(npcs ? npcs : 1) * sizeof *pcs);
    if (!s->pcs) {
        p->oom = 1;
        return INTROSPECT_ENOMEM;
    }
    memcpy(s->pcs, pcs, (size_t)npcs * sizeof *pcs);
    s->npcs = npcs;
    for (int v = 0; v < p->ntypes; v++)
        s->values[v] = values[v];
    for (int i = 0; i < nlabels; i++) {
        s->labels[i] = labels[i];
        s->labels[i].key = ix_profile_strdup(p, labels[i].key);
        s->labels[i].str = ix_profile_strdup(p, labels[i].str);
        s->labels[i].num_unit = ix_profile_strdup(p, labels[i].num_unit);
    }
    s->nlabels = nlabels;
    s->hash = h;
    size_t k = h % p->nbuckets;
    s->next = p->buckets[k];
    p->buckets[k] = (uint32_t)(++p->nsamples);
    return 0;
}

/* ---- resolution ---- */

/* Function dedupe: (name, file) -> index, open addressing over the
 * resolved functions array. Symbolizer strings repeat by pointer, so the
 * pointer test usually settles equality before strcmp. */
struct fn_table {
    uint32_t *slots; /* function index + 1, 0 = empty */
    size_t nslots;   /* power of two, kept at most half full */
    size_t cap;      /* capacity of r->functions */
};

static uint64_t fn_hash(const char *name, const char *file)
{
    return str_hash(name) ^ (str_hash(file) * 0x9e3779b97f4a7c15ULL);
}

static uint32_t *fn_slot(const struct ix_resolved *r, const struct fn_table *t, const char *name,
                         const char *file, uint64_t h)
{
    size_t i = (size_t)(h >> 7) & (t->nslots - 1);
    for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
        const struct ix_rfunction *f = &r->functions[t->slots[i] - 1];
        if (same_str(f->name, name) && same_str(f->filename, file))
            break;
    }
    return &t->slots[i];
}

static int fn_rehash(struct ix_resolved *r, struct fn_table *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return INTROSPECT_ENOMEM;
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    for (size_t i = 0; i < r->nfunctions; i++) {
        const struct ix_rfunction *f = &r->functions[i];
        *fn_slot(r, t, f->name, f->filename, fn_hash(f->name, f->filename)) = (uint32_t)i + 1;
    }
    return 0;
}

static uint32_t intern_function(struct ix_resolved *r, struct fn_table *t, const char *name,
                                const char *file)
{
    if ((r->nfunctions + 1) * 2 > t->nslots && fn_rehash(r, t))
        return UINT32_MAX;
    uint64_t h = fn_hash(name, file);
    uint32_t *slot = fn_slot(r, t, name, file, h);
    if (*slot)
        return *slot - 1;
    if (ix_grow(&r->functions, &t->cap, r->nfunctions + 1, sizeof *r->functions))
        return UINT32_MAX;
    r->functions[r->nfunctions] = (struct ix_rfunction){name, file};
    *slot = (uint32_t)++r->nfunctions;
    return *slot - 1;
}

static int resolve_location(struct ix_resolved *r, struct ix_rlocation *loc, uintptr_t pc,
                            struct fn_table *ft, unsigned char *used)
{
    struct ix_sym_line lines[16];
    loc->address = pc - 1;
    loc->folded = 0;
    if (pc >= 1 && pc <= (uintptr_t)r->prof->npseudo) { /* a named frame of its own */
        loc->address = 0;
        loc->mapping = 0;
        loc->nlines = 1;
        loc->lines = ix_arena_alloc(&r->arena, sizeof *loc->lines);
        uint32_t f = intern_function(r, ft, r->prof->pseudo[pc - 1], NULL);
        if (!loc->lines || f == UINT32_MAX)
            return INTROSPECT_ENOMEM;
        loc->lines[0] = (struct ix_rline){f, 0};
        return 0;
    }
    int m = ix_symbolizer_find_mapping(r->sym, pc - 1);
    loc->mapping = (uint32_t)(m + 1);
    int n = 0;
    if (!r->files_unsymbolized || m < 0 || r->mappings[m].filename[0] != '/')
        n = ix_symbolize(r->sym, pc - 1, lines, 16);
    loc->nlines = n;
    loc->lines = n ? ix_arena_alloc(&r->arena, (size_t)n * sizeof *loc->lines) : NULL;
    if (n && !loc->lines)
        return INTROSPECT_ENOMEM;
    for (int i = 0; i < n; i++) {
        uint32_t f = intern_function(r, ft, lines[i].function, lines[i].file);
        if (f == UINT32_MAX)
            return INTROSPECT_ENOMEM;
        loc->lines[i] = (struct ix_rline){f, lines[i].line};
    }
    if (m >= 0) { /* a mapping has_X only if every location in it has X */
        struct ix_rmapping *rm = &r->mappings[m];
        used[m] = 1;
        rm->has_functions &= n > 0;
        rm->has_filenames &= n > 0 && lines[0].file != NULL;
        rm->has_line_numbers &= n > 0 && lines[0].line > 0;
        /* Inlined frames are expanded wherever line info (DWARF) exists. */
        rm->has_inline_frames &= n > 0 && lines[0].line > 0;
    }
    return 0;
}

static int init_mappings(struct ix_resolved *r)
{
    r->nmappings = ix_symbolizer_nmappings(r->sym);
    r->mappings = calloc(r->nmappings ? r->nmappings : 1, sizeof *r->mappings);
    if (!r->mappings)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < r->nmappings; i++) {
        const struct ix_mapping_info *mi = ix_symbolizer_mapping(r->sym, i);
        r->mappings[i] = (struct ix_rmapping){mi->start, mi->limit, mi->offset, mi->path,
                                              mi->build_id, 1, 1, 1, 1};
    }
    return 0;
}

int ix_profile_resolve(const struct ix_profile *p, struct ix_resolved *r)
{
    return ix_profile_resolve_opt(p, r, 0);
}

int ix_profile_resolve_opt(const struct ix_profile *p, struct ix_resolved *r, unsigned flags)
{
    memset(r, 0, sizeof *r);
    r->prof = p;
    r->files_unsymbolized = (flags & IX_RESOLVE_FILES_UNSYMBOLIZED) != 0;
    size_t lcap = 0;
    struct fn_table ft = {0};
    unsigned char *used = NULL;
    struct ix_u64map m = {0}; /* pc -> location index + 1 */
    r->sym = ix_symbolizer_new();
    r->sample_locs = calloc(p->nsamples ? p->nsamples : 1, sizeof *r->sample_locs);
    if (!r->sym || !r->sample_locs || init_mappings(r) ||
        !(used = calloc(r->nmappings + 1, 1)))
        goto fail;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct ix_sample *s = &p->samples[i];
        uint32_t *locs = ix_arena_alloc(&r->arena, (size_t)(s->npcs ? s->npcs : 1) * sizeof *locs);
        if (!locs)
            goto fail;
        r->sample_locs[i] = locs;
        for (int k = 0; k < s->npcs; k++) {
            int added;
            uint64_t *slot = ix_u64map_put(&m, s->pcs[k], &added);
            if (!slot)
                goto fail;
            if (added) {
                if (ix_grow(&r->locations, &lcap, r->nlocations + 1, sizeof *r->locations))
                    goto fail;
                if (resolve_location(r, &r->locations[r->nlocations], s->pcs[k], &ft, used))
                    goto fail;
                *slot = ++r->nlocations;
            }
            locs[k] = (uint32_t)(*slot - 1);
        }
    }
    /* No location says anything about an unused mapping: claim nothing. */
    for (size_t i = 0; i < r->nmappings; i++)
        if (!used[i])
            r->mappings[i].has_functions = r->mappings[i].has_filenames =
                r->mappings[i].has_line_numbers = r->mappings[i].has_inline_frames = 0;
    ix_u64map_free(&m);
    free(ft.slots);
    free(used);
    return 0;
fail:
    ix_u64map_free(&m);
    free(ft.slots);
    free(used);
    ix_resolved_free(r);
    return INTROSPECT_ENOMEM;
}

/* One location per mapping stands for a run of its unsymbolized frames; its
 * function is "[basename of the object]". The locations and functions arrays
 * grow by at most one entry per mapping. */
int ix_resolved_fold(struct ix_resolved *r)
{
    const struct ix_profile *p = r->prof;
    uint32_t *fold = calloc(r->nmappings + 1, sizeof *fold); /* location index + 1 */
    r->sample_nlocs = calloc(p->nsamples ? p->nsamples : 1, sizeof *r->sample_nlocs);
    r->raw_locs = calloc(p->nsamples ? p->nsamples : 1, sizeof *r->raw_locs);
    if (!fold || !r->sample_nlocs || !r->raw_locs) {
        free(fold);
        return INTROSPECT_ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < p->nsamples && !rc; i++) {
        int n = p->samples[i].npcs, out = 0;
        uint32_t *raw = r->sample_locs[i];
        uint32_t *locs = ix_arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof *locs);
        if (!locs) {
            rc = INTROSPECT_ENOMEM;
            break;
        }
        for (int k = 0; k < n; k++) {
            const struct ix_rlocation *l = &r->locations[raw[k]];
            if (l->nlines || !l->mapping) {
                locs[out++] = raw[k];
                continue;
            }
            uint32_t m = l->mapping;
            if (!fold[m]) {
                const char *path = r->mappings[m - 1].filename;
                const char *base = path ? strrchr(path, '/') : NULL;
                size_t len = strlen(base ? base + 1 : path ? path : "?") + 3;
                char *name = ix_arena_alloc(&r->arena, len);
                struct ix_rlocation *nl = realloc(r->locations, (r->nlocations + 1) * sizeof *nl);
                struct ix_rfunction *nf = realloc(r->functions, (r->nfunctions + 1) * sizeof *nf);
                if (nl)
                    r->locations = nl;
                if (nf)
                    r->functions = nf;
                struct ix_rline *line = ix_arena_alloc(&r->arena, sizeof *line);
                if (!name || !nl || !nf || !line) {
                    rc = INTROSPECT_ENOMEM;
                    break;
                }
                snprintf(name, len, "[%s]", base ? base + 1 : path ? path : "?");
                r->functions[r->nfunctions] = (struct ix_rfunction){name, NULL};
                *line = (struct ix_rline){(uint32_t)r->nfunctions++, 0};
                r->locations[r->nlocations] = (struct ix_rlocation){0, m, line, 1, 1};
                fold[m] = (uint32_t)++r->nlocations;
            }
            if (out == 0 || locs[out - 1] != fold[m] - 1)
                locs[out++] = fold[m] - 1;
        }
        r->raw_locs[i] = raw;
        r->sample_locs[i] = locs;
        r->sample_nlocs[i] = out;
    }
    free(fold);
    return rc;
}

void ix_resolved_free(struct ix_resolved *r)
{
    free(r->locations);
    free(r->functions);
    free(r->mappings);
    free(r->sample_locs);
    free(r->sample_nlocs);
    free(r->raw_locs);
    ix_symbolizer_free(r->sym);
    ix_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

const char *ix_rloc_name(const struct ix_resolved *r, uint32_t loc, int line_index, char *tmp,
                         size_t tmplen)
{
    const struct ix_rlocation *l = &r->locations[loc];
    if (line_index < l->nlines)
        return r->functions[l->lines[line_index].function].name;
    snprintf(tmp, tmplen, "0x%llx", (unsigned long long)l->address);
    return tmp;
}
