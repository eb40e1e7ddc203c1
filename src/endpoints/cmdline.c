/* /debug/pprof/cmdline: argv joined by NUL, as Go's handler does. */
#include <stdio.h>

#include "endpoints/endpoints.h"
#include "gcstats/process.h"

void ix_ep_cmdline(const struct ix_request *req, struct ix_response *resp)
{
    (void)req;
    if (ix_read_cmdline(&resp->body))
        ix_respond_error(resp, 500, "cannot read /proc/self/cmdline");
}
