#include "model/profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampling/symbols.h"
#include "util/arena.h"

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

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t sample_hash(const uintptr_t *pcs, int n, const struct ix_label *l, int nl)
{
    uint64_t h = (uint64_t)n;
    for (int i = 0; i < n; i++)
        h = mix(h, pcs[i]);
    for (int i = 0; i < nl; i++)
        h = mix(mix(mix(h, str_hash(l[i].key)), str_hash(l[i].str)), (uint64_t)l[i].num);
    return h;
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
        return -1;
    p->samples = s;
    p->cap = cap;
    uint32_t *b = calloc(cap * 2, sizeof *b);
    if (!b)
        return -1;
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
        return -1;
    }
    struct ix_sample *s = &p->samples[p->nsamples];
    memset(s, 0, sizeof *s);
    s->pcs = ix_arena_alloc(&p->arena, (size_t)(npcs ? npcs : 1) * sizeof *pcs);
    if (!s->pcs) {
        p->oom = 1;
        return -1;
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

struct pc_map { /* open addressing: pc -> location index + 1 */
    uintptr_t *keys;
    uint32_t *vals;
    size_t cap;
};

static uint32_t *pc_slot(struct pc_map *m, uintptr_t pc)
{
    size_t i = (size_t)((pc * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
    while (m->vals[i] && m->keys[i] != pc)
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = pc;
    return &m->vals[i];
}

struct fn_key {
    const char *name, *file;
};

static uint32_t intern_function(struct ix_resolved *r, size_t *cap, const char *name,
                                const char *file)
{
    /* Linear probe over a small hash would be faster; function counts stay in
     * the low thousands, and resolve runs once per request. */
    uint64_t h = str_hash(name) ^ (str_hash(file) * 31);
    (void)h;
    for (size_t i = r->nfunctions; i-- > 0;)
        if (same_str(r->functions[i].name, name) && same_str(r->functions[i].filename, file))
            return (uint32_t)i;
    if (r->nfunctions == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct ix_rfunction *f = realloc(r->functions, nc * sizeof *f);
        if (!f)
            return UINT32_MAX;
        r->functions = f;
        *cap = nc;
    }
    r->functions[r->nfunctions] = (struct ix_rfunction){name, file};
    return (uint32_t)r->nfunctions++;
}

static int resolve_location(struct ix_resolved *r, struct ix_rlocation *loc, uintptr_t pc,
                            size_t *fcap)
{
    struct ix_sym_line lines[8];
    loc->address = pc - 1;
    int m = ix_symbolizer_find_mapping(r->sym, pc - 1);
    loc->mapping = (uint32_t)(m + 1);
    int n = ix_symbolize(r->sym, pc - 1, lines, 8);
    loc->nlines = n;
    loc->lines = n ? ix_arena_alloc(&r->arena, (size_t)n * sizeof *loc->lines) : NULL;
    if (n && !loc->lines)
        return -1;
    for (int i = 0; i < n; i++) {
        uint32_t f = intern_function(r, fcap, lines[i].function, lines[i].file);
        if (f == UINT32_MAX)
            return -1;
        loc->lines[i] = (struct ix_rline){f, lines[i].line};
    }
    if (m >= 0) { /* a mapping has_X only if every location in it has X */
        struct ix_rmapping *rm = &r->mappings[m];
        rm->has_functions &= n > 0;
        rm->has_filenames &= n > 0 && lines[0].file != NULL;
        rm->has_line_numbers &= n > 0 && lines[0].line > 0;
        rm->has_inline_frames |= n > 1;
    }
    return 0;
}

static int init_mappings(struct ix_resolved *r)
{
    r->nmappings = ix_symbolizer_nmappings(r->sym);
    r->mappings = calloc(r->nmappings ? r->nmappings : 1, sizeof *r->mappings);
    if (!r->mappings)
        return -1;
    for (size_t i = 0; i < r->nmappings; i++) {
        const struct ix_mapping_info *mi = ix_symbolizer_mapping(r->sym, i);
        r->mappings[i] = (struct ix_rmapping){mi->start, mi->limit, mi->offset, mi->path,
                                              mi->build_id, 1, 1, 1, 0};
    }
    return 0;
}

int ix_profile_resolve(const struct ix_profile *p, struct ix_resolved *r)
{
    memset(r, 0, sizeof *r);
    r->prof = p;
    size_t total = 0, lcap = 0, fcap = 0;
    for (size_t i = 0; i < p->nsamples; i++)
        total += (size_t)p->samples[i].npcs;
    struct pc_map m = {0};
    m.cap = 64;
    while (m.cap < total * 2)
        m.cap *= 2;
    m.keys = calloc(m.cap, sizeof *m.keys);
    m.vals = calloc(m.cap, sizeof *m.vals);
    r->sym = ix_symbolizer_new();
    r->sample_locs = calloc(p->nsamples ? p->nsamples : 1, sizeof *r->sample_locs);
    if (!m.keys || !m.vals || !r->sym || !r->sample_locs || init_mappings(r))
        goto fail;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct ix_sample *s = &p->samples[i];
        uint32_t *locs = ix_arena_alloc(&r->arena, (size_t)(s->npcs ? s->npcs : 1) * sizeof *locs);
        if (!locs)
            goto fail;
        r->sample_locs[i] = locs;
        for (int k = 0; k < s->npcs; k++) {
            uint32_t *slot = pc_slot(&m, s->pcs[k]);
            if (!*slot) {
                if (r->nlocations == lcap) {
                    lcap = lcap ? lcap * 2 : 256;
                    struct ix_rlocation *nl = realloc(r->locations, lcap * sizeof *nl);
                    if (!nl)
                        goto fail;
                    r->locations = nl;
                }
                if (resolve_location(r, &r->locations[r->nlocations], s->pcs[k], &fcap))
                    goto fail;
                *slot = (uint32_t)++r->nlocations;
            }
            locs[k] = *slot - 1;
        }
    }
    free(m.keys);
    free(m.vals);
    return 0;
fail:
    free(m.keys);
    free(m.vals);
    ix_resolved_free(r);
    return -1;
}

void ix_resolved_free(struct ix_resolved *r)
{
    free(r->locations);
    free(r->functions);
    free(r->mappings);
    free(r->sample_locs);
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
