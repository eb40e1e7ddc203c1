#include <stdio.h>

#include "format/frames.h"
#include "introspect.h"
#include "format/leaks.h"
#include "format/units.h"

static void dur(char *out, size_t n, double s)
{
    long long t = (long long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%lldh%02lldm%02llds", t / 3600, t / 60 % 60, t % 60);
    else if (t >= 60)
        snprintf(out, n, "%lldm%02llds", t / 60, t % 60);
    else
        snprintf(out, n, "%llds", t);
}

static const char *unit_of(const struct ix_leak_suspect *s)
{
    return s->kind == IX_LEAK_HEAP ? "bytes" : "count";
}

int ix_leaks_text_encode(const struct ix_leak_report *r, const struct ix_resolved *stacks,
                         const int *sample_of, ix_buf *b)
{
    char w[32], cov[32], iv[32], rate[32];
    dur(w, sizeof w, (double)r->window_ns / 1e9);
    dur(cov, sizeof cov, (double)r->covered_ns / 1e9);
    dur(iv, sizeof iv, (double)r->interval_ns / 1e9);
    ix_fmt_value(rate, sizeof rate, r->heap_rate, "bytes");
    ix_buf_printf(b, "leak suspects: %d (window %s, history covers %s in %d snapshots every %s; "
                     "heap sampled every %s)\n",
                  r->nsuspects, w, cov, r->snapshots, iv, r->heap_rate ? rate : "(off)");
    if (r->note[0])
        ix_buf_printf(b, "note: %s\n", r->note);
    ix_buf_puts(b, "ranked by steadiness (Kendall's tau), then by growth against Poisson noise "
                   "(z); see docs/leaks.md\n");
    for (int i = 0; i < r->nsuspects; i++) {
        const struct ix_leak_suspect *s = &r->suspects[i];
        char g[32], cur[32], since[32];
        ix_fmt_value(g, sizeof g, (int64_t)s->growth_per_hour, unit_of(s));
        ix_fmt_value(cur, sizeof cur, (int64_t)s->current, unit_of(s));
        dur(since, sizeof since, s->growing_s);
        ix_buf_printf(b, "\n#%d %s%s%s: +%s/h, growing for %s%s, now %s", s->rank,
                      ix_leak_kind_name(s->kind), s->name ? " " : "", s->name ? s->name : "", g,
                      s->since_window_start ? ">= " : "", since, cur);
        if (s->kind == IX_LEAK_HEAP)
            ix_buf_printf(b, " (%.0f objects)", s->current_objects);
        ix_buf_printf(b, "\n   confidence: %.0f %s of growth, z=%.1f against Poisson noise, "
                         "Mann-Kendall z=%.1f, tau=%.2f\n",
                      s->trend.growth, s->kind == IX_LEAK_HEAP ? "samples" : "counted",
                      s->trend.poisson_z, s->trend.mk_z, s->trend.tau);
        if (stacks && sample_of[i] >= 0) {
            ix_buf_puts(b, s->kind == IX_LEAK_HEAP ? "   allocated at:\n" : "   created at:\n");
            ix_frames_text(stacks, (size_t)sample_of[i], "     ", b);
        }
    }
    if (r->nprocess) {
        ix_buf_puts(b, "\nprocess (context, not judged as suspects):\n");
        for (int i = 0; i < r->nprocess; i++) {
            const struct ix_leak_process *p = &r->process[i];
            int bytes = p->name[0] == 'r' || p->name[0] == 'a';
            char cur[32], g[32];
            ix_fmt_value(cur, sizeof cur, (int64_t)p->current, bytes ? "bytes" : "count");
            ix_fmt_value(g, sizeof g, (int64_t)p->growth_per_hour, bytes ? "bytes" : "count");
            ix_buf_printf(b, "  %-24s %s (%s%s/h)\n", p->name, cur,
                          p->growth_per_hour >= 0 ? "+" : "", g);
        }
    }
    return b->oom ? INTROSPECT_ENOMEM : 0;
}
