/* Answer a request with a profile in the format it asks for:
 *   default         gzipped profile.proto, application/octet-stream,
 *                   Content-Disposition: attachment; filename="<filename>"
 *   ?format=json    the JSON profile model (docs/profile-json.md)
 *   ?format=folded  folded stacks of sample type ?sample_index= (default: last type,
 *                   or the profile's default_sample_type)
 *   ?debug=1        pprof-style text (top functions, then stacks); for contention
 *                   profiles (block, mutex) Go's "--- contention:" text, which
 *                   go tool pprof parses, and the pprof-style text at ?debug=2
 *   ?symbolize=0    frames in files keep their addresses (mappings carry path
 *                   and build ID): the process tree's root symbolizes them
 * Producers with their own legacy text form (heap debug=1, goroutine debug=1/2)
 * handle debug themselves and call this for the rest. */
#ifndef IX_SERVE_PROFILE_H
#define IX_SERVE_PROFILE_H

#include "http/request.h"
#include "model/profile.h"
#include "runtime.h"

void ix_serve_profile(const struct ix_request *req, struct ix_response *resp,
                      const struct ix_profile *p, const char *filename);
/* The same with the resolve flags given (model/profile.h), whatever the
 * query's symbolize= says: a profile left for the tree's root by an exiting
 * child must be symbolized by the child, the only one that has its maps. */
void ix_serve_profile_opt(const struct ix_request *req, struct ix_response *resp,
                          const struct ix_profile *p, const char *filename, unsigned resolve);
/* 1 when the query asks for a format ix_serve_profile does not know (a 400
 * has then been written), so producers can reject before a long capture. */
int ix_profile_format_invalid(const struct ix_request *req, struct ix_response *resp);
/* The one answer of a capture that ended before its time (w != IX_WAIT_DONE):
 * 503 when the module is stopping, 499 when the client went away. */
void ix_respond_capture_ended(struct ix_response *resp, enum ix_wait w);

#endif
