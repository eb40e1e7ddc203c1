/* The query parameters every endpoint shares, one rule and one wording each.
 * A function returns 0 with *out set, or INTROSPECT_EINVAL after writing a 400 to resp
 * (the wording is Go's where Go has one):
 *   invalid value for "seconds" - must be a positive integer
 *   seconds=N exceeds server's maximum of M (max_profile_seconds)
 *   seconds and debug params are incompatible
 *   invalid value for "debug" - must be 0, 1 or 2
 * Bounds come from the running config (max_profile_seconds, max_profile_hz).
 * Parameters of one endpoint only (timeout_ms of threads, sample_index of
 * serve_profile) use ix_param_long's range wording. */
#ifndef IX_PARAMS_H
#define IX_PARAMS_H

#include "http/request.h"
#include "runtime.h"

/* ?seconds= of a capture: absent gives def; else a positive integer up to
 * max_profile_seconds. */
int ix_param_seconds(const struct ix_request *r, struct ix_response *resp, long def, long *out);
/* ?seconds= of /profile, Go's rule: absent, 0 or negative gives def (Go's
 * net/http/pprof profiles 30 s for seconds <= 0); else as ix_param_seconds.
 * Garbage stays a 400 (Go reads it as 30 s too), so a typo never starts a
 * 30 s capture. */
int ix_param_capture_seconds(const struct ix_request *r, struct ix_response *resp, long def,
                             long *out);
/* ?seconds= of a delta profile (heap, allocs, block): absent gives 0 (no
 * delta); else as ix_param_seconds, and refused beside a non-zero ?debug=. */
int ix_param_delta_seconds(const struct ix_request *r, struct ix_response *resp, long *out);
/* ?hz=: absent gives def; else a positive integer up to max_profile_hz. */
int ix_param_hz(const struct ix_request *r, struct ix_response *resp, long def, long *out);
/* ?debug=: absent gives 0; else 0, 1 or 2 (Go reads garbage as 0; we say
 * so: invalid value for "debug" - must be 0, 1 or 2). */
int ix_param_debug(const struct ix_request *r, struct ix_response *resp, int *out);
/* The same, for a caller that validated the query already: 0 when absent or invalid. */
int ix_param_debug_level(const struct ix_request *r);
/* ?format=, or NULL when absent. Which formats exist is the encoder's
 * business (ix_profile_format_invalid in serve_profile.h). */
const char *ix_param_format(const struct ix_request *r);
/* A positive integer parameter up to max (a later ?pid=, ?base=...): absent
 * gives def. The wording is seconds' with the parameter's name. */
int ix_param_positive(const struct ix_request *r, struct ix_response *resp, const char *key,
                      long max, const char *max_name, long def, long *out);

/* Sleep through a capture of `seconds`, waking every 10 ms to call each_poll
 * (NULL: none) and to notice the client leaving or the module stopping.
 * IX_WAIT_DONE when it ran its course, else ix_wait_ms's reason. */
enum ix_wait ix_ep_sleep(const struct ix_request *req, long seconds, void (*each_poll)(void));

#endif
