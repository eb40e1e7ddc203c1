#include "util/duration.h"

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

#define YEAR_NS (366.0 * 86400 * 1e9)

int ix_parse_duration_ns(const char *s, int64_t *out)
{
    if (!s || !*s)
        return INTROSPECT_EINVAL;
    double total = 0;
    const char *p = s;
    int bare = 1;
    while (*p) {
        if ((*p < '0' || *p > '9') && *p != '.')
            return INTROSPECT_EINVAL;
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0)
            return INTROSPECT_EINVAL;
        p = end;
        double unit;
        if (!strncmp(p, "ms", 2)) {
            unit = 1e6;
            p += 2;
        } else if (*p == 's' || *p == 'm' || *p == 'h') {
            unit = *p == 's' ? 1e9 : *p == 'm' ? 60e9 : 3600e9;
            p++;
        } else if (!*p && bare) {
            unit = 1e9; /* a bare number: seconds */
        } else {
            return INTROSPECT_EINVAL;
        }
        bare = 0;
        total += v * unit;
        if (total > YEAR_NS)
            return INTROSPECT_EINVAL;
    }
    *out = (int64_t)total;
    return 0;
}
