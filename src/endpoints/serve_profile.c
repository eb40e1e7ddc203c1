#include "endpoints/serve_profile.h"

#include <string.h>

#include "format/encoders.h"
#include "format/pprof.h"

int ix_profile_format_invalid(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    const char *dbg = ix_param(req, "debug");
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "folded") && strcmp(fmt, "pprof") &&
        strcmp(fmt, "proto")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want pprof, json or folded)", fmt);
        return 1;
    }
    if (dbg && strcmp(dbg, "0") && strcmp(dbg, "1") && strcmp(dbg, "2")) {
        ix_respond_error(resp, 400, "invalid value for \"debug\" - must be 0, 1 or 2");
        return 1;
    }
    return 0;
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
    return -1;
}

void ix_serve_profile(const struct ix_request *req, struct ix_response *resp,
                      const struct ix_profile *p, const char *filename)
{
    if (ix_profile_format_invalid(req, resp))
        return;
    const char *fmt = ix_param(req, "format");
    const char *dbg = ix_param(req, "debug");
    int vi;
    if (pick_value_index(req, resp, p, &vi))
        return;
    struct ix_resolved r;
    if (p->oom || ix_profile_resolve(p, &r)) {
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
    } else if (dbg && strcmp(dbg, "0") != 0) {
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
