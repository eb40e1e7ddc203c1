#include "format/heaptext.h"
#include "introspect.h"

#include <stdio.h>

#include "symbolize/symbolizer.h"

static void stack_comments(struct ix_symbolizer *sym, const struct ix_heap_record *r, ix_buf *out)
{
    for (int i = 0; i < r->npcs; i++) {
        struct ix_sym_line l[4];
        int n = sym ? ix_symbolize(sym, r->pcs[i] - 1, l, 4) : 0;
        if (n == 0) {
            ix_buf_printf(out, "#\t%#llx\n", (unsigned long long)r->pcs[i]);
            continue;
        }
        for (int k = n - 1; k >= 0; k--) /* outermost last, as Go prints inlined frames */
            ix_buf_printf(out, "#\t%#llx\t%s\t%s:%d\n", (unsigned long long)r->pcs[i],
                          l[k].function ? l[k].function : "?", l[k].file ? l[k].file : "?",
                          l[k].line);
    }
}

static void append_maps(ix_buf *out)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    ix_buf_puts(out, "\nMAPPED_LIBRARIES:\n");
    char line[4096];
    while (fgets(line, sizeof line, f))
        ix_buf_puts(out, line);
    fclose(f);
}

int ix_heap_text_encode(const struct ix_heap_record *r, size_t n, int64_t rate,
                        const ix_buf *trailer, ix_buf *out)
{
    uint64_t tin = 0, tinb = 0, ta = 0, tab = 0;
    for (size_t i = 0; i < n; i++) {
        tin += r[i].allocs - r[i].frees;
        tinb += r[i].alloc_bytes - r[i].free_bytes;
        ta += r[i].allocs;
        tab += r[i].alloc_bytes;
    }
    ix_buf_printf(out, "heap profile: %llu: %llu [%llu: %llu] @ heap/%lld\n",
                  (unsigned long long)tin, (unsigned long long)tinb, (unsigned long long)ta,
                  (unsigned long long)tab, (long long)(2 * (rate > 0 ? rate : 1)));
    struct ix_symbolizer *sym = ix_symbolizer_new();
    for (size_t i = 0; i < n; i++) {
        ix_buf_printf(out, "%llu: %llu [%llu: %llu] @",
                      (unsigned long long)(r[i].allocs - r[i].frees),
                      (unsigned long long)(r[i].alloc_bytes - r[i].free_bytes),
                      (unsigned long long)r[i].allocs, (unsigned long long)r[i].alloc_bytes);
        for (int k = 0; k < r[i].npcs; k++)
            ix_buf_printf(out, " %#llx", (unsigned long long)r[i].pcs[k]);
        ix_buf_putc(out, '\n');
        stack_comments(sym, &r[i], out);
        ix_buf_putc(out, '\n');
    }
    if (sym)
        ix_symbolizer_free(sym);
    if (trailer && trailer->len)
        ix_buf_put(out, trailer->data, trailer->len);
    append_maps(out);
    return out->oom ? INTROSPECT_ENOMEM : 0;
}
