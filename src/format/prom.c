#include "format/prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HELP escapes backslash and newline; label values also escape the quote. */
static void escape(ix_buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            ix_buf_puts(b, "\\\\");
        else if (*s == '\n')
            ix_buf_puts(b, "\\n");
        else if (*s == '"' && quote)
            ix_buf_puts(b, "\\\"");
        else
            ix_buf_putc(b, *s);
    }
}

static void labels(ix_buf *b, const struct ix_mseries *se, const char *le)
{
    if (!se->nlabels && !le)
        return;
    ix_buf_putc(b, '{');
    for (int i = 0; i < se->nlabels; i++) {
        if (i)
            ix_buf_putc(b, ',');
        ix_buf_puts(b, se->label_names[i]);
        ix_buf_puts(b, "=\"");
        escape(b, se->label_values[i], 1);
        ix_buf_putc(b, '"');
    }
    if (le) {
        if (se->nlabels)
            ix_buf_putc(b, ',');
        ix_buf_puts(b, "le=\"");
        ix_buf_puts(b, le);
        ix_buf_putc(b, '"');
    }
    ix_buf_putc(b, '}');
}

static void line(ix_buf *b, const char *name, const char *suffix, const struct ix_mseries *se,
                 const char *le, double v)
{
    ix_buf_puts(b, name);
    ix_buf_puts(b, suffix);
    labels(b, se, le);
    ix_buf_putc(b, ' ');
    ix_buf_put_double(b, v);
    ix_buf_putc(b, '\n');
}

static void histogram(ix_buf *b, const char *name, const struct ix_mseries *se)
{
    uint64_t cum = 0;
    char le[40];
    for (size_t i = 0; i <= se->nbounds; i++) {
        cum += se->counts[i];
        if (i == se->nbounds) {
            strcpy(le, "+Inf");
        } else {
            ix_buf tmp;
            ix_buf_init(&tmp);
            ix_buf_put_double(&tmp, se->bounds[i]);
            snprintf(le, sizeof le, "%s", tmp.data ? tmp.data : "0");
            ix_buf_free(&tmp);
        }
        line(b, name, "_bucket", se, le, (double)cum);
    }
    line(b, name, "_sum", se, NULL, se->sum);
    line(b, name, "_count", se, NULL, (double)cum);
}

static const char *type_name(enum ix_mtype t)
{
    return t == IX_COUNTER ? "counter" : t == IX_GAUGE ? "gauge" : "histogram";
}

/* OpenMetrics names the counter family without "_total"; samples keep it. */
static void family_name(ix_buf *b, const struct ix_mfamily *f, int om)
{
    size_t n = strlen(f->name);
    if (om && f->type == IX_COUNTER && n > 6 && strcmp(f->name + n - 6, "_total") == 0)
        n -= 6;
    ix_buf_put(b, f->name, n);
}

void ix_prom_encode(const struct ix_mset *s, int om, ix_buf *out)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct ix_mfamily *f = &s->fams[i];
        ix_buf_puts(out, "# HELP ");
        family_name(out, f, om);
        ix_buf_putc(out, ' ');
        escape(out, f->help, 0);
        ix_buf_puts(out, "\n# TYPE ");
        family_name(out, f, om);
        ix_buf_putc(out, ' ');
        ix_buf_puts(out, type_name(f->type));
        ix_buf_putc(out, '\n');
        for (size_t k = 0; k < f->n; k++) {
            if (f->type == IX_HISTOGRAM)
                histogram(out, f->name, &f->series[k]);
            else
                line(out, f->name, "", &f->series[k], NULL, f->series[k].value);
        }
    }
    if (om)
        ix_buf_puts(out, "# EOF\n");
}

/* ---- Accept negotiation ---- */

#define MAX_RANGES 16

struct media_range {
    char type[48], version[16], proto[48], encoding[16];
    double q;
    int pos;
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Copy [p, end) trimmed, lower-cased and unquoted into out (truncated). */
static void copy_token(char *out, size_t n, const char *p, const char *end)
{
    p = skip_ws(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && *p == '"' && end[-1] == '"')
        p++, end--;
    size_t k = 0;
    for (; p < end && k + 1 < n; p++)
        out[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    out[k] = '\0';
}

/* One media range "type/subtype; k=v; ...", [p, end). */
static void parse_range(struct media_range *m, const char *p, const char *end)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    copy_token(m->type, sizeof m->type, p, semi ? semi : end);
    m->version[0] = m->proto[0] = m->encoding[0] = '\0';
    m->q = 1;
    while (semi) {
        p = semi + 1;
        semi = memchr(p, ';', (size_t)(end - p));
        const char *pend = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pend - p));
        if (!eq)
            continue;
        char key[16], val[48];
        copy_token(key, sizeof key, p, eq);
        copy_token(val, sizeof val, eq + 1, pend);
        if (!strcmp(key, "version"))
            snprintf(m->version, sizeof m->version, "%.15s", val);
        else if (!strcmp(key, "proto"))
            snprintf(m->proto, sizeof m->proto, "%s", val);
        else if (!strcmp(key, "encoding"))
            snprintf(m->encoding, sizeof m->encoding, "%.15s", val);
        else if (!strcmp(key, "q"))
            m->q = strtod(val, NULL);
    }
}

static int by_q(const void *a, const void *b)
{
    const struct media_range *x = a, *y = b;
    if (x->q != y->q)
        return x->q > y->q ? -1 : 1;
    return x->pos - y->pos; /* stable: the header's order */
}

enum ix_prom_format ix_prom_negotiate(const char *accept)
{
    struct media_range r[MAX_RANGES];
    int n = 0;
    for (const char *p = accept; p && *p && n < MAX_RANGES;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        parse_range(&r[n], p, end);
        r[n].pos = n;
        if (r[n].type[0] && r[n].q > 0)
            n++;
        p = comma ? comma + 1 : end;
    }
    qsort(r, (size_t)n, sizeof r[0], by_q);
    for (int i = 0; i < n; i++) {
        const char *v = r[i].version;
        if (!strcmp(r[i].type, "text/plain") && (!*v || !strcmp(v, "0.0.4")))
            return IX_PROM_TEXT;
        if (!strcmp(r[i].type, "application/vnd.google.protobuf") &&
            !strcmp(r[i].proto, "io.prometheus.client.metricfamily") &&
            !strcmp(r[i].encoding, "delimited"))
            return IX_PROM_PROTOBUF;
        if (!strcmp(r[i].type, "application/openmetrics-text")) {
            if (!strcmp(v, "1.0.0"))
                return IX_PROM_OM_1_0_0;
            if (!*v || !strcmp(v, "0.0.1"))
                return IX_PROM_OM_0_0_1;
        }
    }
    return IX_PROM_TEXT;
}

const char *ix_prom_content_type(enum ix_prom_format f)
{
    return f == IX_PROM_PROTOBUF   ? IX_PROM_PROTOBUF_CONTENT_TYPE
           : f == IX_PROM_OM_1_0_0 ? IX_OPENMETRICS_CONTENT_TYPE
           : f == IX_PROM_OM_0_0_1 ? IX_OPENMETRICS_001_CONTENT_TYPE
                                   : IX_PROM_CONTENT_TYPE;
}
