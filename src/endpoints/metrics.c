/* /metrics: Prometheus text 0.0.4, or OpenMetrics 1.0 when Accept asks. */
#include "collectors.h"
#include "endpoints/endpoints.h"
#include "format/prom.h"

void ix_ep_metrics(const struct ix_request *req, struct ix_response *resp)
{
    int om = ix_prom_wants_openmetrics(ix_header(req, "Accept"));
    struct ix_mset set;
    ix_mset_init(&set);
    ix_metrics_collect(&set);
    if (set.oom) {
        ix_mset_free(&set);
        ix_respond_error(resp, 500, "out of memory while collecting metrics");
        return;
    }
    ix_prom_encode(&set, om, &resp->body);
    ix_mset_free(&set);
    resp->content_type = om ? IX_OPENMETRICS_CONTENT_TYPE : IX_PROM_CONTENT_TYPE;
}
