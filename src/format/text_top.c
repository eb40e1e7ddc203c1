/* The human-readable profile (?debug=1): a header with the profile's name,
 * sample types, total and comments; the top functions by flat and by
 * cumulative value with percentages (as `go tool pprof -top` and
 * `-top -cum` print them); then the heaviest stacks, leaf first.
 *
 * Functions are counted like pprof: flat goes to the innermost frame of a
 * sample's leaf location, cum to every function on the stack, once per
 * sample even when it recurses. An unsymbolized location counts as a
 * function of its own, named by its address. */
#include "format/encoders.h"
#include "introspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/units.h"
#include "util/clock.h"

#define TOP_FUNCTIONS 40
#define TOP_STACKS 20

struct node {
    int64_t flat, cum;
    size_t stamp; /* last sample counted in cum, + 1 */
};

struct top {
    const struct ix_resolved *r;
    const char *unit;
    int vi;
    int64_t total;
    struct node *nodes; /* functions, then one per location (unsymbolized) */
    size_t nnodes;
};

static size_t node_id(const struct ix_resolved *r, uint32_t loc, int line)
{
    const struct ix_rlocation *l = &r->locations[loc];
    return l->nlines ? l->lines[line].function : r->nfunctions + loc;
}

static const char *node_name(const struct ix_resolved *r, size_t id, char *tmp, size_t n)
{
    if (id < r->nfunctions)
        return r->functions[id].name ? r->functions[id].name : "??";
    snprintf(tmp, n, "0x%llx", (unsigned long long)r->locations[id - r->nfunctions].address);
    return tmp;
}

static void count_sample(struct top *t, size_t i)
{
    const struct ix_resolved *r = t->r;
    const struct ix_sample *s = &r->prof->samples[i];
    int64_t v = s->values[t->vi];
    int n = ix_rsample_nlocs(r, i);
    if (n > 0)
        t->nodes[node_id(r, r->sample_locs[i][0], 0)].flat += v;
    for (int k = 0; k < n; k++) {
        uint32_t loc = r->sample_locs[i][k];
        int nl = r->locations[loc].nlines ? r->locations[loc].nlines : 1;
        for (int j = 0; j < nl; j++) {
            struct node *nd = &t->nodes[node_id(r, loc, j)];
            if (nd->stamp != i + 1) {
                nd->stamp = i + 1;
                nd->cum += v;
            }
        }
    }
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static int by_flat(const void *a, const void *b, void *arg)
{
    const struct node *n = ((const struct top *)arg)->nodes;
    const struct node *x = &n[*(const size_t *)a], *y = &n[*(const size_t *)b];
    if (abs64(x->flat) != abs64(y->flat))
        return abs64(x->flat) < abs64(y->flat) ? 1 : -1;
    if (abs64(x->cum) != abs64(y->cum))
        return abs64(x->cum) < abs64(y->cum) ? 1 : -1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int by_cum(const void *a, const void *b, void *arg)
{
    const struct node *n = ((const struct top *)arg)->nodes;
    const struct node *x = &n[*(const size_t *)a], *y = &n[*(const size_t *)b];
    if (abs64(x->cum) != abs64(y->cum))
        return abs64(x->cum) < abs64(y->cum) ? 1 : -1;
    return by_flat(a, b, arg);
}

static void put_value(ix_buf *out, const struct top *t, int64_t v, int width)
{
    char tmp[48];
    ix_fmt_value(tmp, sizeof tmp, v, t->unit);
    ix_buf_printf(out, "%*s", width, tmp);
}

static void put_percent(ix_buf *out, const struct top *t, int64_t v)
{
    char tmp[48];
    ix_fmt_percent(tmp, sizeof tmp, v, t->total);
    ix_buf_printf(out, " %7s", tmp);
}

static void top_table(ix_buf *out, struct top *t, size_t *ids, size_t n,
                      int (*cmp)(const void *, const void *, void *), const char *by)
{
    qsort_r(ids, n, sizeof *ids, cmp, t);
    size_t shown = n < TOP_FUNCTIONS ? n : TOP_FUNCTIONS;
    ix_buf_printf(out, "\nTop %zu of %zu functions by %s:\n", shown, n, by);
    ix_buf_puts(out, "      flat   flat%    sum%        cum    cum%\n");
    int64_t sum = 0;
    char tmp[32];
    for (size_t i = 0; i < shown; i++) {
        const struct node *nd = &t->nodes[ids[i]];
        sum += nd->flat;
        put_value(out, t, nd->flat, 10);
        put_percent(out, t, nd->flat);
        put_percent(out, t, sum);
        put_value(out, t, nd->cum, 11);
        put_percent(out, t, nd->cum);
        ix_buf_printf(out, "  %s\n", node_name(t->r, ids[i], tmp, sizeof tmp));
    }
}

static int top_functions(ix_buf *out, struct top *t)
{
    size_t *ids = malloc((t->nnodes ? t->nnodes : 1) * sizeof *ids), n = 0;
    if (!ids)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].flat || t->nodes[i].cum)
            ids[n++] = i;
    top_table(out, t, ids, n, by_flat, "flat");
    top_table(out, t, ids, n, by_cum, "cumulative");
    free(ids);
    return 0;
}

/* ---- heaviest stacks: samples merged by location sequence ---- */

static int by_stack(const void *a, const void *b, void *arg)
{
    const struct ix_resolved *r = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int nx = ix_rsample_nlocs(r, x), ny = ix_rsample_nlocs(r, y);
    if (nx != ny)
        return nx < ny ? -1 : 1;
    int c = memcmp(r->sample_locs[x], r->sample_locs[y], (size_t)nx * sizeof(uint32_t));
    return c ? c : (x < y ? -1 : 1);
}

struct merged {
    size_t first; /* a sample with this stack */
    int64_t value, count;
};

static int by_value(const void *a, const void *b)
{
    const struct merged *x = a, *y = b;
    if (abs64(x->value) != abs64(y->value))
        return abs64(x->value) < abs64(y->value) ? 1 : -1;
    return x->first < y->first ? -1 : 1;
}

/* Another type counting events (e.g. samples/count next to cpu), or -1 (a
 * value: none). */
static int count_type(const struct ix_profile *p, int vi)
{
    for (int i = 0; i < p->ntypes; i++)
        if (i != vi && p->types[i].unit && strcmp(p->types[i].unit, "count") == 0)
            return i;
    return -1;
}

static void put_stack(ix_buf *out, const struct top *t, const struct merged *m, int ci)
{
    const struct ix_resolved *r = t->r;
    int n = ix_rsample_nlocs(r, m->first);
    ix_buf_puts(out, "\n");
    put_value(out, t, m->value, 10);
    put_percent(out, t, m->value);
    if (ci >= 0)
        ix_buf_printf(out, "  (%lld %s)", (long long)m->count, r->prof->types[ci].type);
    ix_buf_putc(out, '\n');
    for (int k = 0; k < n; k++) {
        const struct ix_rlocation *l = &r->locations[r->sample_locs[m->first][k]];
        if (!l->nlines)
            ix_buf_printf(out, "           0x%llx\n", (unsigned long long)l->address);
        for (int j = 0; j < l->nlines; j++) {
            const struct ix_rfunction *f = &r->functions[l->lines[j].function];
            ix_buf_printf(out, "           %s", f->name ? f->name : "??");
            if (f->filename)
                ix_buf_printf(out, "  %s:%lld", f->filename, (long long)l->lines[j].line);
            ix_buf_puts(out, j < l->nlines - 1 ? " (inline)\n" : "\n");
        }
    }
}

static int heaviest_stacks(ix_buf *out, struct top *t)
{
    const struct ix_resolved *r = t->r;
    size_t ns = r->prof->nsamples, nm = 0;
    size_t *idx = malloc((ns ? ns : 1) * sizeof *idx);
    struct merged *m = malloc((ns ? ns : 1) * sizeof *m);
    if (!idx || !m) {
        free(idx);
        free(m);
        return INTROSPECT_ENOMEM;
    }
    for (size_t i = 0; i < ns; i++)
        idx[i] = i;
    qsort_r(idx, ns, sizeof *idx, by_stack, (void *)r);
    int ci = count_type(r->prof, t->vi);
    for (size_t i = 0; i < ns; i++) {
        const struct ix_sample *s = &r->prof->samples[idx[i]];
        int n = ix_rsample_nlocs(r, idx[i]);
        if (!nm || n != ix_rsample_nlocs(r, m[nm - 1].first) ||
            memcmp(r->sample_locs[m[nm - 1].first], r->sample_locs[idx[i]],
                   (size_t)n * sizeof(uint32_t)))
            m[nm++] = (struct merged){idx[i], 0, 0};
        m[nm - 1].value += s->values[t->vi];
        m[nm - 1].count += ci >= 0 ? s->values[ci] : 0;
    }
    qsort(m, nm, sizeof *m, by_value);
    size_t shown = 0;
    while (shown < nm && shown < TOP_STACKS && m[shown].value)
        shown++;
    ix_buf_printf(out, "\nHeaviest %zu of %zu stacks (leaf first):\n", shown, nm);
    for (size_t i = 0; i < shown; i++)
        put_stack(out, t, &m[i], ci);
    free(idx);
    free(m);
    return 0;
}

/* ---- header ---- */

static void header(ix_buf *out, const struct top *t)
{
    const struct ix_profile *p = t->r->prof;
    char tmp[64];
    ix_buf_printf(out, "profile: %s\nsample types:", p->name ? p->name : "");
    for (int i = 0; i < p->ntypes; i++)
        ix_buf_printf(out, "%s %s/%s%s", i ? "," : "", p->types[i].type, p->types[i].unit,
                      i == t->vi ? " (shown)" : "");
    ix_buf_putc(out, '\n');
    if (p->time_nanos) {
        struct tm tm;
        ix_utc(p->time_nanos / 1000000000, &tm); /* not gmtime_r: see ix_utc */
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        ix_buf_printf(out, "time: %s\n", tmp);
    }
    if (p->duration_nanos) {
        ix_fmt_value(tmp, sizeof tmp, p->duration_nanos, "nanoseconds");
        ix_buf_printf(out, "duration: %s\n", tmp);
    }
    if (p->period && p->period_type.type) {
        ix_fmt_value(tmp, sizeof tmp, p->period, p->period_type.unit);
        ix_buf_printf(out, "period: %s (%s)\n", tmp, p->period_type.type);
    }
    ix_fmt_value(tmp, sizeof tmp, t->total, t->unit);
    ix_buf_printf(out, "total: %s in %zu stacks\n", tmp, p->nsamples);
    for (int i = 0; i < p->ncomments; i++)
        ix_buf_printf(out, "# %s\n", p->comments[i]);
}

int ix_text_top_encode(const struct ix_resolved *r, int value_index, ix_buf *out)
{
    const struct ix_profile *p = r->prof;
    if (value_index < 0 || value_index >= p->ntypes)
        return INTROSPECT_EINVAL;
    struct top t = {r, p->types[value_index].unit, value_index, 0, NULL,
                    r->nfunctions + r->nlocations};
    t.nodes = calloc(t.nnodes ? t.nnodes : 1, sizeof *t.nodes);
    if (!t.nodes)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < p->nsamples; i++) {
        t.total += p->samples[i].values[value_index];
        count_sample(&t, i);
    }
    header(out, &t);
    int rc = top_functions(out, &t);
    if (!rc)
        rc = heaviest_stacks(out, &t);
    free(t.nodes);
    return rc ? rc : out->oom ? INTROSPECT_ENOMEM : 0;
}
