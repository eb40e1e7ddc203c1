#include "format/prom.h"

#include <stdio.h>
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

int ix_prom_wants_openmetrics(const char *accept)
{
    return accept && strstr(accept, "application/openmetrics-text") != NULL;
}
