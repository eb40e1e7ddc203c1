/* Prometheus text exposition 0.0.4 and OpenMetrics 1.0 encoders of the
 * metrics model. */
#ifndef IX_PROM_H
#define IX_PROM_H

#include "model/metrics.h"
#include "util/buf.h"

#define IX_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define IX_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define IX_PROM_PROTOBUF_CONTENT_TYPE \
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
#define IX_OPENMETRICS_001_CONTENT_TYPE "application/openmetrics-text; version=0.0.1; charset=utf-8"

enum ix_prom_format {
    IX_PROM_TEXT,    /* text/plain; version=0.0.4 */
    IX_PROM_OM_0_0_1, /* application/openmetrics-text; version=0.0.1 */
    IX_PROM_OM_1_0_0, /* application/openmetrics-text; version=1.0.0 */
    IX_PROM_PROTOBUF, /* application/vnd.google.protobuf; proto=...MetricFamily; encoding=delimited */
};

/* openmetrics: 0 for the 0.0.4 text, 1 for OpenMetrics (0.0.1 and 1.0.0
 * have the same text, as Prometheus' client_golang writes them). */
void ix_prom_encode(const struct ix_mset *s, int openmetrics, ix_buf *out);
/* The format an Accept header asks for, as Prometheus' client_golang
 * (expfmt.NegotiateIncludingOpenMetrics) decides: media ranges by q
 * (highest first; q=0 never), then the first of text/plain (version 0.0.4
 * or none), application/vnd.google.protobuf with
 * proto=io.prometheus.client.MetricFamily and encoding=delimited,
 * application/openmetrics-text (version 1.0.0; 0.0.1 or none
 * gives 0.0.1; other versions are skipped); the 0.0.4 text otherwise. */
enum ix_prom_format ix_prom_negotiate(const char *accept);
/* The delimited protobuf exposition (format/prom_pb.c): histograms with a
 * native form carry it there, with their classic buckets. */
void ix_prom_encode_protobuf(const struct ix_mset *s, ix_buf *out);
const char *ix_prom_content_type(enum ix_prom_format f);

#endif
