#include "endpoints/params.h"

#include "runtime.h"
#include "util/clock.h"
#include "introspect.h"

/* Defaults of config.c, for a request served while no config runs (tests
 * calling handlers directly). */
#define FALLBACK_MAX_SECONDS 300
#define FALLBACK_MAX_HZ 1000

static long max_seconds(void)
{
    const struct ix_config *c = ix_running_config();
    return c ? (long)c->max_profile_seconds : FALLBACK_MAX_SECONDS;
}

static long max_hz(void)
{
    const struct ix_config *c = ix_running_config();
    return c ? (long)c->max_profile_hz : FALLBACK_MAX_HZ;
}

int ix_param_positive(const struct ix_request *r, struct ix_response *resp, const char *key,
                      long max, const char *max_name, long def, long *out)
{
    const char *s = ix_param(r, key);
    if (!s) {
        *out = def;
        return 0;
    }
    long v;
    if (ix_parse_long(s, &v) || v <= 0) {
        ix_respond_error(resp, 400, "invalid value for \"%s\" - must be a positive integer", key);
        return INTROSPECT_EINVAL;
    }
    if (v > max) {
        ix_respond_error(resp, 400, "%s=%ld exceeds server's maximum of %ld (%s)", key, v, max,
                         max_name);
        return INTROSPECT_EINVAL;
    }
    *out = v;
    return 0;
}

int ix_param_seconds(const struct ix_request *r, struct ix_response *resp, long def, long *out)
{
    return ix_param_positive(r, resp, "seconds", max_seconds(), "max_profile_seconds", def, out);
}

int ix_param_capture_seconds(const struct ix_request *r, struct ix_response *resp, long def,
                             long *out)
{
    const char *s = ix_param(r, "seconds");
    long v;
    if (s && ix_parse_long(s, &v) == 0 && v <= 0) {
        *out = def;
        return 0;
    }
    return ix_param_seconds(r, resp, def, out);
}

int ix_param_hz(const struct ix_request *r, struct ix_response *resp, long def, long *out)
{
    return ix_param_positive(r, resp, "hz", max_hz(), "max_profile_hz", def, out);
}

int ix_param_delta_seconds(const struct ix_request *r, struct ix_response *resp, long *out)
{
    if (ix_param_seconds(r, resp, 0, out))
        return INTROSPECT_EINVAL;
    if (*out > 0 && ix_param_debug_level(r) != 0) {
        ix_respond_error(resp, 400, "seconds and debug params are incompatible");
        return INTROSPECT_EINVAL;
    }
    return 0;
}

int ix_param_debug(const struct ix_request *r, struct ix_response *resp, int *out)
{
    const char *s = ix_param(r, "debug");
    *out = 0;
    if (!s)
        return 0;
    if (s[0] < '0' || s[0] > '2' || s[1]) {
        ix_respond_error(resp, 400, "invalid value for \"debug\" - must be 0, 1 or 2");
        return INTROSPECT_EINVAL;
    }
    *out = s[0] - '0';
    return 0;
}

int ix_param_debug_level(const struct ix_request *r)
{
    const char *s = ix_param(r, "debug");
    return s && s[0] >= '0' && s[0] <= '2' && !s[1] ? s[0] - '0' : 0;
}

const char *ix_param_format(const struct ix_request *r) { return ix_param(r, "format"); }

enum ix_wait ix_ep_sleep(const struct ix_request *req, long seconds, void (*each_poll)(void))
{
    enum { POLL_MS = 10 };
    struct ix_cancel gone = ix_request_cancel(req);
    long long end = ix_mono_ns() + seconds * 1000000000LL;
    for (;;) {
        long long left = end - ix_mono_ns();
        if (left <= 0)
            return IX_WAIT_DONE;
        long ms = left / 1000000 + 1;
        enum ix_wait rc = ix_wait_ms(&gone, ms < POLL_MS ? ms : POLL_MS);
        if (each_poll)
            each_poll();
        if (rc != IX_WAIT_DONE)
            return rc;
    }
}
