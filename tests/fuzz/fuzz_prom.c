/* The Prometheus/OpenMetrics encoders fed random metric sets: arbitrary
 * bytes in help and label values, valid names (the registry validates
 * them), special floats, histograms
 * with odd bounds. Oracle: no crash, and every sample line is one line
 * (escaping kept newlines and quotes inside label values and help). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/prom.h"
#include "fuzz_input.h"
#include "model/metrics.h"

static void check_lines(const ix_buf *b)
{
    if (b->oom || !b->len)
        return;
    if (getenv("FUZZ_DUMP")) /* to look at a crashing input's output */
        fwrite(b->data, 1, b->len, stderr);
    if (b->data[b->len - 1] != '\n')
        abort();
    /* Inside a quoted label value a raw newline would split the sample. */
    int in_quote = 0;
    for (size_t i = 0; i < b->len; i++) {
        char c = b->data[i];
        if (c == '\\' && in_quote) {
            i++;
            continue;
        }
        if (c == '"')
            in_quote = !in_quote;
        if (c == '\n') {
            if (in_quote && (i + 1 >= b->len || b->data[i + 1] != '#'))
                abort();
            in_quote = 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    struct fin f = {data, n};
    struct ix_mset s;
    ix_mset_init(&s);
    int nfam = fin_u8(&f) % 6;
    char name[64], help[64], ln[4][32], lv[4][32];
    for (int i = 0; i < nfam; i++) {
        enum ix_mtype t = (enum ix_mtype)(fin_u8(&f) % 3);
        struct ix_mfamily *fam = ix_mset_family(&s, fin_name(&f, name, 40), fin_str(&f, help, 60), t);
        int nser = fin_u8(&f) % 5;
        for (int k = 0; k < nser; k++) {
            int nl = fin_u8(&f) % 4;
            const char *names[4], *values[4];
            for (int l = 0; l < nl; l++) {
                names[l] = fin_name(&f, ln[l], 20);
                values[l] = fin_str(&f, lv[l], 30);
            }
            if (t == IX_HISTOGRAM) {
                double bounds[6];
                uint64_t counts[7];
                size_t nb = fin_u8(&f) % 6;
                for (size_t b = 0; b < nb; b++)
                    bounds[b] = fin_double(&f);
                for (size_t b = 0; b <= nb; b++)
                    counts[b] = fin_u64(&f) >> (fin_u8(&f) % 64);
                ix_mset_histogram(&s, fam, names, values, nl, bounds, counts, nb, fin_double(&f));
                size_t nn = fin_u8(&f) % 6;
                int32_t idx[6];
                uint64_t nc[6];
                for (size_t b = 0; b < nn; b++) { /* ascending, sometimes adjacent */
                    idx[b] = (b ? idx[b - 1] + 1 : -300) + (int32_t)(fin_u8(&f) % 3);
                    nc[b] = fin_u64(&f) >> (fin_u8(&f) % 64);
                }
                if (fin_u8(&f) & 1)
                    ix_mset_native(&s, fam, 8, 1e-39, fin_u64(&f), idx, nc, nn);
            } else {
                ix_mset_value(&s, fam, names, values, nl, fin_double(&f));
            }
        }
    }
    for (int om = 0; om < 2; om++) {
        ix_buf b;
        ix_buf_init(&b);
        ix_prom_encode(&s, om, &b);
        check_lines(&b);
        ix_buf_free(&b);
    }
    ix_buf pb;
    ix_buf_init(&pb);
    ix_prom_encode_protobuf(&s, &pb);
    ix_buf_free(&pb);
    char accept[128];
    (void)ix_prom_negotiate(fin_str(&f, accept, 120));
    ix_mset_free(&s);
    return 0;
}
