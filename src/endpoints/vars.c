#include "endpoints/endpoints.h"
void ix_ep_vars(const struct ix_request *req, struct ix_response *resp)
{
    (void)req;
    ix_respond_error(resp, 501, "not yet");
}
