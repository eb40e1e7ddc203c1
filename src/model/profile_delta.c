#include "model/profile_delta.h"
#include "introspect.h"

#include <string.h>

static void copy_header(struct ix_profile *out, const struct ix_profile *p)
{
    ix_profile_init(out, p->name);
    for (int i = 0; i < p->ntypes; i++)
        ix_profile_add_type(out, p->types[i].type, p->types[i].unit);
    out->period_type = p->period_type;
    out->period = p->period;
    out->time_nanos = p->time_nanos;
    out->default_type = p->default_type;
    for (int i = 0; i < p->ncomments; i++)
        ix_profile_comment(out, "%s", p->comments[i]);
}

static int add_all(struct ix_profile *out, const struct ix_profile *p, int64_t sign)
{
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct ix_sample *s = &p->samples[i];
        int64_t v[IX_MAX_VALUES];
        for (int k = 0; k < IX_MAX_VALUES; k++)
            v[k] = sign * s->values[k];
        int rc = ix_profile_add(out, s->pcs, s->npcs, v, s->labels, s->nlabels);
        if (rc)
            return rc;
    }
    return 0;
}

int ix_profile_delta(const struct ix_profile *cur, const struct ix_profile *base,
                     struct ix_profile *out)
{
    struct ix_profile merged;
    copy_header(&merged, cur);
    copy_header(out, cur);
    if (cur->has_precision) /* its precision comments were copied; the JSON field is not */
        ix_profile_comment(out, "delta: the sample counts and errors above are the later "
                                "snapshot's, not the difference's");
    out->duration_nanos = cur->time_nanos - base->time_nanos;
    int rc = add_all(&merged, cur, 1) || add_all(&merged, base, -1) ? INTROSPECT_ENOMEM : 0;
    for (size_t i = 0; i < merged.nsamples && rc == 0; i++) {
        const struct ix_sample *s = &merged.samples[i];
        int nonzero = 0;
        for (int k = 0; k < merged.ntypes; k++)
            nonzero |= s->values[k] != 0;
        if (nonzero)
            rc = ix_profile_add(out, s->pcs, s->npcs, s->values, s->labels, s->nlabels);
    }
    ix_profile_free(&merged);
    if (rc)
        ix_profile_free(out);
    return rc;
}
