/* Human-readable profile values, as `go tool pprof` prints them: time in
 * s/ms/us/ns, sizes in B/kB/MB/GB/TB (powers of 1024), two decimals with
 * ".00" trimmed. Integer arithmetic only: the host's locale (LC_NUMERIC)
 * never changes the decimal point. */
#ifndef IX_UNITS_H
#define IX_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Format v (in unit, e.g. "nanoseconds", "bytes", "count") into dst. */
void ix_fmt_value(char *dst, size_t n, int64_t v, const char *unit);
/* 100 * part / whole with two decimals and a '%' ("12.34%"). */
void ix_fmt_percent(char *dst, size_t n, int64_t part, int64_t whole);

#endif
