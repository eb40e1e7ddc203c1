/* Reading structured choices out of a fuzzer's byte string. */
#ifndef IX_FUZZ_INPUT_H
#define IX_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fin {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fin_u8(struct fin *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint64_t fin_u64(struct fin *f)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fin_u8(f);
    return v;
}

/* A NUL-terminated string of up to max bytes (any bytes but NUL) into buf. */
static inline const char *fin_str(struct fin *f, char *buf, size_t max)
{
    size_t len = fin_u8(f) % (max + 1), i = 0;
    for (; i < len && f->n; i++) {
        char c = (char)fin_u8(f);
        buf[i] = c ? c : 'x';
    }
    buf[i] = '\0';
    return buf;
}

/* A valid Prometheus metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*):
 * names are validated at registration, so the encoders may assume them. */
static inline const char *fin_name(struct fin *f, char *buf, size_t max)
{
    static const char cs[] = "abcxyzABCXYZ_:0123456789";
    size_t len = 1 + fin_u8(f) % max, i = 0;
    for (; i < len; i++)
        buf[i] = cs[fin_u8(f) % (i ? sizeof cs - 1 : sizeof cs - 11)];
    buf[i] = '\0';
    return buf;
}

/* A double that is often special (NaN, infinities, -0, huge, tiny). */
static inline double fin_double(struct fin *f)
{
    switch (fin_u8(f) % 8) {
    case 0: return __builtin_nan("");
    case 1: return __builtin_inf();
    case 2: return -__builtin_inf();
    case 3: return -0.0;
    case 4: return (double)(int64_t)fin_u64(f);
    default: {
        uint64_t b = fin_u64(f);
        double d;
        memcpy(&d, &b, sizeof d);
        return d;
    }
    }
}

#endif
