#include "endpoints/endpoints.h"
void ix_ep_metrics(const struct ix_request *req, struct ix_response *resp)
{
    (void)req;
    ix_respond_error(resp, 501, "not yet");
}
