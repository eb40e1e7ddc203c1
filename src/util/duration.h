/* Durations as Go writes them ("90s", "10m", "1h30m", "1.5h"), or a bare
 * number of seconds. */
#ifndef IX_DURATION_H
#define IX_DURATION_H

#include <stdint.h>

/* Parse a non-negative duration into ns. Units: ms, s, m, h (at least one
 * number; each may have a fraction). Returns 0, or INTROSPECT_EINVAL when malformed or
 * longer than a year. */
int ix_parse_duration_ns(const char *s, int64_t *out);

#endif
