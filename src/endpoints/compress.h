/* Gzip a finished text reply when the client asks (Accept-Encoding: gzip),
 * as Prometheus does on every scrape and Go's promhttp answers. Used by the
 * large text endpoints (/metrics, /debug/vars); pprof bodies are gzip
 * already. */
#ifndef IX_COMPRESS_H
#define IX_COMPRESS_H

#include "http/request.h"

void ix_compress_reply(const struct ix_request *req, struct ix_response *resp);

#endif
