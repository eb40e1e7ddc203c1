#include "model/metrics.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

void ix_mset_init(struct ix_mset *s) { memset(s, 0, sizeof *s); }

void ix_mset_free(struct ix_mset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->fams[i].series);
    free(s->fams);
    ix_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}

static const char *copy(struct ix_mset *s, const char *str)
{
    const char *c = ix_arena_strdup(&s->arena, str ? str : "");
    if (!c)
        s->oom = 1;
    return c ? c : "";
}

struct ix_mfamily *ix_mset_family(struct ix_mset *s, const char *name, const char *help,
                                  enum ix_mtype type)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct ix_mfamily *f = realloc(s->fams, cap * sizeof *f);
        if (!f) {
            s->oom = 1;
            return NULL;
        }
        s->fams = f;
        s->cap = cap;
    }
    struct ix_mfamily *f = &s->fams[s->n++];
    memset(f, 0, sizeof *f);
    f->name = copy(s, name);
    f->help = copy(s, help);
    f->type = type;
    return f;
}

static struct ix_mseries *add_series(struct ix_mset *s, struct ix_mfamily *f,
                                     const char *const *names, const char *const *values,
                                     int nlabels)
{
    if (!f)
        return NULL;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct ix_mseries *n = realloc(f->series, cap * sizeof *n);
        if (!n) {
            s->oom = 1;
            return NULL;
        }
        f->series = n;
        f->cap = cap;
    }
    struct ix_mseries *se = &f->series[f->n];
    memset(se, 0, sizeof *se);
    if (nlabels > 0) {
        se->label_names = ix_arena_alloc(&s->arena, (size_t)nlabels * sizeof(char *));
        se->label_values = ix_arena_alloc(&s->arena, (size_t)nlabels * sizeof(char *));
        if (!se->label_names || !se->label_values) {
            s->oom = 1;
            return NULL;
        }
        for (int i = 0; i < nlabels; i++) {
            se->label_names[i] = copy(s, names[i]);
            se->label_values[i] = copy(s, values[i]);
        }
    }
    se->nlabels = nlabels;
    f->n++;
    return se;
}

void ix_mset_value(struct ix_mset *s, struct ix_mfamily *f, const char *const *names,
                   const char *const *values, int nlabels, double v)
{
    struct ix_mseries *se = add_series(s, f, names, values, nlabels);
    if (se)
        se->value = v;
}

void ix_mset_value0(struct ix_mset *s, struct ix_mfamily *f, double v)
{
    ix_mset_value(s, f, NULL, NULL, 0, v);
}

void ix_mset_value1(struct ix_mset *s, struct ix_mfamily *f, const char *name, const char *value,
                    double v)
{
    ix_mset_value(s, f, &name, &value, 1, v);
}

void ix_mset_histogram(struct ix_mset *s, struct ix_mfamily *f, const char *const *names,
                       const char *const *values, int nlabels, const double *bounds,
                       const uint64_t *counts, size_t nbounds, double sum)
{
    struct ix_mseries *se = add_series(s, f, names, values, nlabels);
    if (!se)
        return;
    double *b = ix_arena_alloc(&s->arena, (nbounds ? nbounds : 1) * sizeof *b);
    uint64_t *c = ix_arena_alloc(&s->arena, (nbounds + 1) * sizeof *c);
    if (!b || !c) {
        s->oom = 1;
        f->n--;
        return;
    }
    memcpy(b, bounds, nbounds * sizeof *b);
    memcpy(c, counts, (nbounds + 1) * sizeof *c);
    se->bounds = b;
    se->counts = c;
    se->nbounds = nbounds;
    se->sum = sum;
}

void ix_mset_native(struct ix_mset *s, struct ix_mfamily *f, int schema, double zero_threshold,
                    uint64_t zero_count, const int32_t *idx, const uint64_t *counts, size_t n)
{
    if (!f || !f->n || f->type != IX_HISTOGRAM)
        return;
    struct ix_mseries *se = &f->series[f->n - 1];
    int32_t *i2 = ix_arena_alloc(&s->arena, (n ? n : 1) * sizeof *i2);
    uint64_t *c2 = ix_arena_alloc(&s->arena, (n ? n : 1) * sizeof *c2);
    if (!i2 || !c2) {
        s->oom = 1;
        return;
    }
    memcpy(i2, idx, n * sizeof *i2);
    memcpy(c2, counts, n * sizeof *c2);
    se->native = 1;
    se->schema = schema;
    se->zero_threshold = zero_threshold;
    se->zero_count = zero_count;
    se->nidx = i2;
    se->ncount = c2;
    se->nn = n;
}

/* ceil(log2(v) * 2^schema), corrected for the rounding of log2 near a
 * bound (bounds are upper-inclusive: v == 2^(i/2^s) is in bucket i). */
int32_t ix_native_index(double v, int schema)
{
    double k = ldexp(1, schema);
    int32_t i = (int32_t)ceil(log2(v) * k);
    while (exp2((double)(i - 1) / k) >= v)
        i--;
    while (exp2((double)i / k) < v)
        i++;
    return i;
}
