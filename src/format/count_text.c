#include "format/count_text.h"
#include "introspect.h"

#include <stdlib.h>
#include <string.h>

#include "format/frames.h"
#include "util/json.h"

struct order {
    const struct ix_resolved *r;
    int vi;
};

static int by_count_desc(const void *a, const void *b, void *ctx)
{
    const struct order *o = ctx;
    const struct ix_sample *s = o->r->prof->samples;
    int64_t x = s[*(const size_t *)a].values[o->vi];
    int64_t y = s[*(const size_t *)b].values[o->vi];
    if (x != y)
        return x > y ? -1 : 1;
    return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static void write_labels(const struct ix_sample *s, ix_buf *out)
{
    if (!s->nlabels)
        return;
    ix_buf_puts(out, "# labels: {");
    for (int i = 0; i < s->nlabels; i++) {
        if (i)
            ix_buf_puts(out, ", ");
        ix_json_quote(out, s->labels[i].key);
        ix_buf_putc(out, ':');
        if (s->labels[i].str)
            ix_json_quote(out, s->labels[i].str);
        else
            ix_buf_put_i64(out, s->labels[i].num);
    }
    ix_buf_puts(out, "}\n");
}

static void frame_line(const struct ix_frame *f, void *arg)
{
    ix_buf *out = arg;
    ix_buf_printf(out, "#\t%#llx\t%s", (unsigned long long)f->address, f->function);
    if (f->file)
        ix_buf_printf(out, "\t%s:%lld", f->file, (long long)f->line);
    ix_buf_putc(out, '\n');
}

int ix_count_text_encode(const struct ix_resolved *r, const char *name, int vi, ix_buf *out)
{
    const struct ix_profile *p = r->prof;
    size_t *idx = malloc((p->nsamples + 1) * sizeof *idx);
    if (!idx)
        return INTROSPECT_ENOMEM;
    int64_t total = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        idx[i] = i;
        total += p->samples[i].values[vi];
    }
    struct order o = {r, vi};
    qsort_r(idx, p->nsamples, sizeof *idx, by_count_desc, &o);
    ix_buf_printf(out, "%s profile: total %lld\n", name, (long long)total);
    for (size_t n = 0; n < p->nsamples; n++) {
        const struct ix_sample *s = &p->samples[idx[n]];
        ix_buf_put_i64(out, s->values[vi]);
        ix_buf_puts(out, " @");
        for (int j = 0; j < s->npcs; j++)
            ix_buf_printf(out, " %#llx", (unsigned long long)s->pcs[j]);
        ix_buf_putc(out, '\n');
        write_labels(s, out);
        ix_frames_each(r, idx[n], frame_line, out);
        ix_buf_putc(out, '\n');
    }
    free(idx);
    return out->oom ? INTROSPECT_ENOMEM : 0;
}

int ix_is_contention_profile(const struct ix_profile *p)
{
    return p->ntypes == 2 && !strcmp(p->types[0].type, "contentions") &&
           !strcmp(p->types[1].type, "delay") && !strcmp(p->types[1].unit, "nanoseconds");
}

int ix_contention_text_encode(const struct ix_resolved *r, const char *name, ix_buf *out)
{
    const struct ix_profile *p = r->prof;
    size_t *idx = malloc((p->nsamples + 1) * sizeof *idx);
    if (!idx)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < p->nsamples; i++)
        idx[i] = i;
    struct order o = {r, 1};
    qsort_r(idx, p->nsamples, sizeof *idx, by_count_desc, &o);
    ix_buf_printf(out, "--- %s:\ncycles/second=1000000000\n", name);
    for (size_t n = 0; n < p->nsamples; n++) {
        const struct ix_sample *s = &p->samples[idx[n]];
        ix_buf_printf(out, "%lld %lld @", (long long)s->values[1], (long long)s->values[0]);
        for (int j = 0; j < s->npcs; j++)
            ix_buf_printf(out, " %#llx", (unsigned long long)s->pcs[j]);
        ix_buf_putc(out, '\n');
        write_labels(s, out);
        ix_frames_each(r, idx[n], frame_line, out);
        ix_buf_putc(out, '\n');
    }
    free(idx);
    return out->oom ? INTROSPECT_ENOMEM : 0;
}
