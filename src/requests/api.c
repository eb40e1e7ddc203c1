/* The public request API: a task, a route label and a latency sample per
 * request (see requests/requests.h). */
#include <string.h>

#include "introspect.h"
#include "labels/labels.h"
#include "requests/routes.h"
#include "util/clock.h"

/* The handle's private words. */
#define R_ROUTE(r) ((struct ix_route_stats *)(r)->route_)

int introspect_request_begin(introspect_request *r, const char *route, const char *method,
                             int64_t timeout_ns)
{
    if (!r)
        return INTROSPECT_EINVAL;
    memset(r, 0, sizeof *r);
    if (!route || !*route || timeout_ns < 0)
        return INTROSPECT_EINVAL;
    struct ix_route_stats *rs = ix_route_get(method, route);
    if (!rs)
        return INTROSPECT_ENOMEM;
    r->route_ = rs;
    /* A refused task (max_tasks live) leaves task_ NULL: the request is still counted. */
    introspect_task_begin("request", rs->route, timeout_ns, &r->task_);
    int64_t now = ix_mono_ns();
    uint32_t prev = ix_labels_current();
    uint32_t id = ix_route_labels(rs, prev);
    r->prev_labels_ = prev;
    r->labels_ = id;
    ix_labels_switch(id, now);
    r->begin_ns_ = now;
    return 0;
}

int introspect_request_end(introspect_request *r, int status)
{
    if (!r || !r->route_)
        return INTROSPECT_EINVAL;
    int64_t now = ix_mono_ns();
    struct ix_route_stats *rs = R_ROUTE(r);
    /* Restore the labels only on the thread that still wears this request's
     * set (an event loop may end it elsewhere). */
    if (ix_labels_current() == r->labels_)
        ix_labels_switch(r->prev_labels_, now);
    ix_route_record(rs, now - r->begin_ns_, status, ix_requests_now_from(now));
    if (r->task_)
        introspect_task_end(r->task_);
    r->route_ = NULL;
    r->task_ = NULL;
    return 0;
}

int introspect_request_observe(const char *route, const char *method, int status,
                               int64_t duration_ns)
{
    if (!route || !*route || duration_ns < 0)
        return INTROSPECT_EINVAL;
    struct ix_route_stats *rs = ix_route_get(method, route);
    if (!rs)
        return INTROSPECT_ENOMEM;
    ix_route_record(rs, duration_ns, status, ix_requests_now());
    return 0;
}

introspect_task *introspect_request_task(const introspect_request *r)
{
    return r && r->route_ ? r->task_ : NULL;
}
