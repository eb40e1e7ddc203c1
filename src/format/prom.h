/* Prometheus text exposition 0.0.4 and OpenMetrics 1.0 encoders of the
 * metrics model. */
#ifndef IX_PROM_H
#define IX_PROM_H

#include "model/metrics.h"
#include "util/buf.h"

#define IX_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define IX_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

void ix_prom_encode(const struct ix_mset *s, int openmetrics, ix_buf *out);
/* 1 when an Accept header prefers OpenMetrics. */
int ix_prom_wants_openmetrics(const char *accept);

#endif
