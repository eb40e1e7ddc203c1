#include "format/units.h"

#include <stdio.h>
#include <string.h>

/* v / div with two rounded decimals, ".00" dropped. */
static void fixed2(char *dst, size_t n, uint64_t v, uint64_t div, const char *suffix,
                   const char *sign)
{
    uint64_t whole = v / div, frac = ((v % div) * 100 + div / 2) / div;
    if (frac >= 100) {
        whole++;
        frac -= 100;
    }
    if (frac)
        snprintf(dst, n, "%s%llu.%02llu%s", sign, (unsigned long long)whole,
                 (unsigned long long)frac, suffix);
    else
        snprintf(dst, n, "%s%llu%s", sign, (unsigned long long)whole, suffix);
}

struct scale {
    uint64_t div;
    const char *suffix;
};

static const struct scale time_scale[] = {
    {1000000000ULL * 3600, "h"}, {1000000000ULL * 60, "m"}, {1000000000ULL, "s"},
    {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
static const struct scale byte_scale[] = {
    {1ULL << 40, "TB"}, {1ULL << 30, "GB"}, {1ULL << 20, "MB"}, {1ULL << 10, "kB"}, {1, "B"}};

static void scaled(char *dst, size_t n, uint64_t v, const struct scale *s, size_t ns,
                   const char *sign)
{
    size_t i = 0;
    while (i + 1 < ns && v < s[i].div)
        i++;
    fixed2(dst, n, v, s[i].div, s[i].suffix, sign);
}

void ix_fmt_value(char *dst, size_t n, int64_t v, const char *unit)
{
    const char *sign = v < 0 ? "-" : "";
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (!unit)
        unit = "";
    if (v == 0) { /* as pprof: a bare 0, whatever the unit */
        snprintf(dst, n, "0");
        return;
    }
    /* Hours and minutes read badly in a column of seconds: stop at s. */
    if (strcmp(unit, "nanoseconds") == 0)
        scaled(dst, n, a, time_scale + 2, 4, sign);
    else if (strcmp(unit, "microseconds") == 0)
        scaled(dst, n, a * 1000, time_scale + 2, 4, sign);
    else if (strcmp(unit, "milliseconds") == 0)
        scaled(dst, n, a * 1000000, time_scale + 2, 4, sign);
    else if (strcmp(unit, "seconds") == 0)
        scaled(dst, n, a * 1000000000, time_scale + 2, 4, sign);
    else if (strcmp(unit, "bytes") == 0)
        scaled(dst, n, a, byte_scale, sizeof byte_scale / sizeof *byte_scale, sign);
    else if (strcmp(unit, "count") == 0 || !*unit)
        snprintf(dst, n, "%s%llu", sign, (unsigned long long)a);
    else
        snprintf(dst, n, "%s%llu %s", sign, (unsigned long long)a, unit);
}

void ix_fmt_percent(char *dst, size_t n, int64_t part, int64_t whole)
{
    if (whole == 0) {
        snprintf(dst, n, "0%%");
        return;
    }
    int neg = (part < 0) != (whole < 0);
    unsigned __int128 p = part < 0 ? (unsigned __int128)(-(__int128)part) : (unsigned __int128)part;
    unsigned __int128 w = whole < 0 ? (unsigned __int128)(-(__int128)whole) : (unsigned __int128)whole;
    unsigned __int128 hundredths = (p * 10000 + w / 2) / w;
    snprintf(dst, n, "%s%llu.%02llu%%", neg ? "-" : "", (unsigned long long)(hundredths / 100),
             (unsigned long long)(hundredths % 100));
}
