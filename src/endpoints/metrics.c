/* /metrics: Prometheus text 0.0.4, OpenMetrics (1.0.0 or 0.0.1) or the
 * delimited protobuf format (with native histograms) as Accept negotiates;
 * gzipped when Accept-Encoding asks. */
#include "collectors.h"
#include "endpoints/compress.h"
#include "endpoints/endpoints.h"
#include "format/prom.h"

void ix_ep_metrics(const struct ix_request *req, struct ix_response *resp)
{
    enum ix_prom_format fmt = ix_prom_negotiate(ix_header(req, "Accept"));
    int om = fmt == IX_PROM_OM_0_0_1 || fmt == IX_PROM_OM_1_0_0;
    struct ix_mset set;
    ix_mset_init(&set);
    ix_metrics_collect(&set);
    if (set.oom) {
        ix_mset_free(&set);
        ix_respond_error(resp, 500, "out of memory while collecting metrics");
        return;
    }
    if (fmt == IX_PROM_PROTOBUF)
        ix_prom_encode_protobuf(&set, &resp->body);
    else
        ix_prom_encode(&set, om, &resp->body);
    ix_mset_free(&set);
    resp->content_type = ix_prom_content_type(fmt);
    ix_compress_reply(req, resp);
}
