/* /debug/pprof/threads (alias /debug/pprof/goroutine) and
 * /debug/pprof/threadcreate: the goroutine and threadcreate profiles of Go,
 * done for the threads of a C process. The endpoint parses, takes the dump
 * (sampling/threads/dump.h) and the tasks each thread runs
 * (registry/tasks_by_thread.c), and hands them to the encoders: the profiles
 * (sampling/threads/profile.c) to serve_profile.c or Go's count text, the
 * per-thread views (debug=2 text, JSON) to format/thread_dump.h. */
#include <string.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "endpoints/serve_profile.h"
#include "format/count_text.h"
#include "format/thread_dump.h"
#include "http/heavy.h"
#include "introspect.h"
#include "registry/tasks.h"
#include "runtime.h"
#include "sampling/threads/dump.h"
#include "sampling/threads/profile.h"

/* debug=2 and ?format=json: one entry per thread. */
static void serve_per_thread(const struct ix_thread_dump *d, int json, struct ix_response *resp)
{
    struct ix_profile p;
    struct ix_resolved r;
    if (ix_threads_profile_per_thread(d, &p) || ix_profile_resolve(&p, &r)) {
        ix_profile_free(&p);
        ix_respond_error(resp, 500, "out of memory while building the thread dump");
        return;
    }
    struct ix_tasks_by_thread bt;
    ix_tasks_by_thread_load(&bt); /* on OOM: no tasks shown */
    if (json) {
        resp->content_type = "application/json; charset=utf-8";
        ix_thread_dump_json(d, &r, &bt, &resp->body);
    } else {
        resp->content_type = "text/plain; charset=utf-8";
        ix_thread_dump_text(d, &r, &bt, &resp->body);
    }
    ix_tasks_by_thread_free(&bt);
    ix_resolved_free(&r);
    ix_profile_free(&p);
    if (resp->body.oom)
        ix_respond_error(resp, 500, "out of memory while writing the thread dump");
}

static void serve_count_text(const struct ix_profile *p, const char *name,
                             struct ix_response *resp)
{
    struct ix_resolved r;
    if (p->oom || ix_profile_resolve(p, &r)) {
        ix_respond_error(resp, 500, "out of memory while building the profile");
        return;
    }
    resp->content_type = "text/plain; charset=utf-8";
    if (ix_count_text_encode(&r, name, 0, &resp->body))
        ix_respond_error(resp, 500, "could not encode the profile");
    ix_resolved_free(&r);
}

void ix_ep_threads(const struct ix_request *req, struct ix_response *resp)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    long timeout_ms;
    long interrupt;
    if (ix_param_long(req, resp, "timeout_ms", 1, 10000, 200, &timeout_ms) ||
        ix_param_long(req, resp, "interrupt", 0, 1, 0, &interrupt))
        return;
    const struct ix_config *cfg = ix_running_config();
    if (interrupt && !(cfg && cfg->allow_interrupt)) {
        ix_respond_error(resp, 400,
                         "interrupt=1 is disabled: it can end the host's blocking calls with EINTR "
                         "(set INTROSPECT_ALLOW_INTERRUPT=1 to allow it)");
        return;
    }
    const char *fmt = ix_param_format(req);
    int debug = ix_param_debug_level(req); /* validated by ix_profile_format_invalid */
    struct ix_thread_dump d;
    /* A dump signals every thread: one of the shared heavy slots. */
    if (ix_heavy_try("thread-dump", timeout_ms, resp))
        return;
    int rc = ix_thread_dump_take(&d, (int)timeout_ms, interrupt ? 0 : IX_DUMP_SPARE_EINTR);
    ix_heavy_done("thread-dump"); /* the rest only formats the copy */
    if (rc == INTROSPECT_EBUSY) { /* a dump taken outside HTTP (the dump signal) */
        ix_respond_error(resp, 409, "another thread dump is running; retry shortly");
        ix_response_header(resp, "Retry-After", "1");
        return;
    }
    if (rc) {
        ix_respond_error(resp, 500, "thread dump failed: %s", introspect_strerror(rc));
        return;
    }
    if ((fmt && strcmp(fmt, "json") == 0) || debug == 2) {
        serve_per_thread(&d, fmt && strcmp(fmt, "json") == 0, resp);
    } else {
        struct ix_profile p;
        if (ix_threads_profile_grouped(&d, &p))
            ix_respond_error(resp, 500, "out of memory while building the profile");
        else if (!fmt && debug == 1)
            serve_count_text(&p, "threads", resp);
        else
            ix_serve_profile(req, resp, &p, "goroutine.pb.gz");
        ix_profile_free(&p);
    }
    ix_thread_dump_free(&d);
}

/* ---- threadcreate ---- */

void ix_ep_threadcreate(const struct ix_request *req, struct ix_response *resp)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    struct ix_profile p;
    if (ix_threadcreate_profile(&p))
        ix_respond_error(resp, 500, "out of memory while building the profile");
    else if (!ix_param_format(req) && ix_param_debug_level(req) != 0)
        serve_count_text(&p, "threadcreate", resp);
    else
        ix_serve_profile(req, resp, &p, "threadcreate.pb.gz");
    ix_profile_free(&p);
}
