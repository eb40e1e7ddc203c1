/* Prometheus' protobuf exposition (io.prometheus.client.MetricFamily,
 * delimited: each family's message preceded by its length as a varint), the
 * only format in which Prometheus scrapes native histograms. Field numbers
 * are those of client_model's metrics.proto (public; written by hand with
 * format/protobuf.h, no generated code):
 *   MetricFamily  name 1, help 2, type 3 (COUNTER 0, GAUGE 1, HISTOGRAM 4), metric 4
 *   Metric        label 1 (LabelPair: name 1, value 2), gauge 2, counter 3, histogram 7
 *   Gauge/Counter value 1 (double)
 *   Histogram     sample_count 1, sample_sum 2, bucket 3 (Bucket: cumulative_count 1,
 *                 upper_bound 2), schema 5 (sint32), zero_threshold 6, zero_count 7,
 *                 positive_span 12 (BucketSpan: offset 1 sint32, length 2), positive_delta 13
 *                 (sint64, each bucket's count minus the previous one's)
 * A histogram with a native form carries both: classic buckets (for scrapers
 * that ignore native ones) and the sparse buckets. */
#include "format/prom.h"

#include <stdlib.h>
#include <string.h>

#include "format/protobuf.h"

enum { PB_COUNTER = 0, PB_GAUGE = 1, PB_HISTOGRAM = 4 };

static void nested(ix_buf *out, int field, ix_buf *msg)
{
    if (msg->oom)
        out->oom = 1;
    ix_pb_bytes(out, field, msg->data ? msg->data : "", msg->len);
    ix_buf_reset(msg);
}

static void native(ix_buf *h, const struct ix_mseries *se, ix_buf *tmp)
{
    ix_pb_sint(h, 5, se->schema);
    ix_pb_double(h, 6, se->zero_threshold);
    ix_pb_uint(h, 7, se->zero_count);
    if (!se->nn) { /* the no-op span: native with no observations yet */
        ix_pb_bytes(h, 12, "", 0);
        return;
    }
    /* spans of consecutive indexes; the first offset is absolute, later
     * ones the gap since the previous span's end */
    size_t i = 0;
    int64_t next = 0; /* 64-bit: index + 1 and the gaps cannot overflow */
    while (i < se->nn) {
        size_t j = i + 1;
        while (j < se->nn && (int64_t)se->nidx[j] == (int64_t)se->nidx[j - 1] + 1)
            j++;
        ix_pb_sint(tmp, 1, i == 0 ? se->nidx[0] : se->nidx[i] - next);
        ix_pb_uint(tmp, 2, (uint64_t)(j - i));
        nested(h, 12, tmp);
        next = (int64_t)se->nidx[j - 1] + 1;
        i = j;
    }
    int64_t *d = malloc(se->nn * sizeof *d);
    if (!d) {
        h->oom = 1;
        return;
    }
    uint64_t prev = 0; /* deltas in unsigned arithmetic: counts are never near 2^63, fuzzed ones may be */
    for (size_t k = 0; k < se->nn; k++) {
        d[k] = (int64_t)(se->ncount[k] - prev);
        prev = se->ncount[k];
    }
    ix_pb_packed_sint(h, 13, d, se->nn);
    free(d);
}

static void histogram(ix_buf *h, const struct ix_mseries *se, ix_buf *tmp)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= se->nbounds; i++)
        cum += se->counts[i];
    ix_pb_uint(h, 1, cum);
    ix_pb_double(h, 2, se->sum);
    uint64_t c = 0;
    for (size_t i = 0; i < se->nbounds; i++) { /* +Inf is implied by sample_count */
        c += se->counts[i];
        ix_pb_uint(tmp, 1, c);
        ix_pb_double(tmp, 2, se->bounds[i]);
        nested(h, 3, tmp);
    }
    if (se->native)
        native(h, se, tmp);
}

void ix_prom_encode_protobuf(const struct ix_mset *s, ix_buf *out)
{
    ix_buf fam, met, val, tmp;
    ix_buf_init(&fam);
    ix_buf_init(&met);
    ix_buf_init(&val);
    ix_buf_init(&tmp);
    for (size_t i = 0; i < s->n; i++) {
        const struct ix_mfamily *f = &s->fams[i];
        ix_buf_reset(&fam);
        ix_pb_bytes(&fam, 1, f->name, strlen(f->name));
        ix_pb_bytes(&fam, 2, f->help, strlen(f->help));
        ix_pb_uint(&fam, 3, f->type == IX_COUNTER ? PB_COUNTER
                            : f->type == IX_GAUGE ? PB_GAUGE
                                                  : PB_HISTOGRAM);
        for (size_t k = 0; k < f->n; k++) {
            const struct ix_mseries *se = &f->series[k];
            for (int l = 0; l < se->nlabels; l++) {
                ix_pb_bytes(&tmp, 1, se->label_names[l], strlen(se->label_names[l]));
                ix_pb_bytes(&tmp, 2, se->label_values[l], strlen(se->label_values[l]));
                nested(&met, 1, &tmp);
            }
            if (f->type == IX_HISTOGRAM) {
                histogram(&val, se, &tmp);
                nested(&met, 7, &val);
            } else {
                ix_pb_double(&val, 1, se->value);
                nested(&met, f->type == IX_COUNTER ? 3 : 2, &val);
            }
            nested(&fam, 4, &met);
        }
        ix_pb_varint(out, fam.len);
        ix_buf_put(out, fam.data ? fam.data : "", fam.len);
        if (fam.oom || met.oom || val.oom || tmp.oom)
            out->oom = 1;
    }
    ix_buf_free(&fam);
    ix_buf_free(&met);
    ix_buf_free(&val);
    ix_buf_free(&tmp);
}
