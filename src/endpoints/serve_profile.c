#include "endpoints/serve_profile.h"

#include <string.h>

#include "format/count_text.h"
#include "format/encoders.h"
#include "format/pprof.h"
#include "endpoints/params.h"
#include "introspect.h"

int ix_profile_format_invalid(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param_format(req);
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "folded") && strcmp(fmt, "pprof") &&
        strcmp(fmt, "proto")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want pprof, json or folded)", fmt);
        return 1;
    }
    const char *sym = ix_param(req, "symbolize");
    if (sym && strcmp(sym, "0") && strcmp(sym, "1")) {
        ix_respond_error(resp, 400, "symbolize must be 0 or 1, not \"%s\"", sym);
        return 1;
    }
    int debug;
    return ix_param_debug(req, resp, &debug) ? 1 : 0;
}

static int pick_value_index(const struct ix_request *req, struct ix_response *resp,
                            const struct ix_profile *p, int *out)
{
    const char *si = ix_param(req, "sample_index");
    *out = p->default_type >= 0 ? p->default_type : p->ntypes - 1;
    if (!si)
        return 0;
    for (int i = 0; i < p->ntypes; i++)
        if (strcmp(si, p->types[i].type) == 0 || (si[0] == '0' + i && si[1] == '\0')) {
            *out = i;
            return 0;
        }
    ix_respond_error(resp, 400, "unknown sample_index \"%s\"", si);
    return INTROSPECT_EINVAL;
}

void ix_serve_profile(const struct ix_request *req, struct ix_response *resp,
                      const struct ix_profile *p, const char *filename)
{
    const char *sym = ix_param(req, "symbolize");
    ix_serve_profile_opt(req, resp, p, filename,
                         sym && strcmp(sym, "0") == 0 ? IX_RESOLVE_FILES_UNSYMBOLIZED : 0);
}

void ix_serve_profile_opt(const struct ix_request *req, struct ix_response *resp,
                          const struct ix_profile *p, const char *filename, unsigned resolve)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    const char *fmt = ix_param_format(req);
    int vi;
    if (pick_value_index(req, resp, p, &vi))
        return;
    struct ix_resolved r;
    if (p->oom || ix_profile_resolve_opt(p, &r, resolve)) {
        ix_respond_error(resp, 500, "out of memory while building the profile");
        return;
    }
    int readable = (fmt && (strcmp(fmt, "json") == 0 || strcmp(fmt, "folded") == 0)) ||
                   (!fmt && ix_param_debug_level(req) != 0);
    if (readable && ix_resolved_fold(&r)) {
        ix_resolved_free(&r);
        ix_respond_error(resp, 500, "out of memory while building the profile");
        return;
    }
    int rc;
    if (fmt && strcmp(fmt, "json") == 0) {
        resp->content_type = "application/json; charset=utf-8";
        rc = ix_profile_json_encode(&r, &resp->body);
    } else if (fmt && strcmp(fmt, "folded") == 0) {
        resp->content_type = "text/plain; charset=utf-8";
        rc = ix_folded_encode(&r, vi, &resp->body);
    } else if (ix_param_debug_level(req) == 1 && ix_is_contention_profile(p)) {
        resp->content_type = "text/plain; charset=utf-8";
        rc = ix_contention_text_encode(&r, "contention", &resp->body);
    } else if (ix_param_debug_level(req) != 0) {
        resp->content_type = "text/plain; charset=utf-8";
        rc = ix_text_top_encode(&r, vi, &resp->body);
    } else {
        resp->content_type = "application/octet-stream";
        ix_response_header(resp, "Content-Disposition", "attachment; filename=\"%s\"", filename);
        rc = ix_pprof_encode(&r, &resp->body);
    }
    ix_resolved_free(&r);
    if (rc || resp->body.oom)
        ix_respond_error(resp, 500, "could not encode the profile");
}

void ix_respond_capture_ended(struct ix_response *resp, enum ix_wait w)
{
    if (w == IX_WAIT_STOPPING)
        ix_respond_error(resp, 503, "profile interrupted: the introspect server is stopping");
    else if (w == IX_WAIT_EXITING)
        ix_respond_error(resp, 503, "profile interrupted: the process is exiting");
    else
        ix_respond_error(resp, 499, "client went away during the profile");
}
