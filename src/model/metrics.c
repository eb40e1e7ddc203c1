#include "model/metrics.h"

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
