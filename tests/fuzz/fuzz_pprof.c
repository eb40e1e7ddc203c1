/* The pprof encoder fed random profiles: random value types, periods,
 * comments, stacks (real code addresses, near-misses and garbage), labels
 * with arbitrary bytes, values; then resolve (symbolize) and encode. Oracle:
 * no crash, and the output is a gzip stream that inflates to a protobuf
 * whose first field is a valid key. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "format/pprof.h"
#include "fuzz_input.h"
#include "model/profile.h"

static const char *const kTypes[] = {"samples", "cpu", "alloc_space", "inuse_objects", "", "x\ny"};
static const char *const kUnits[] = {"count", "nanoseconds", "bytes", ""};

static void check_gzip(const ix_buf *b)
{
    if (b->oom)
        return;
    unsigned char out[64];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return;
    z.next_in = (unsigned char *)b->data;
    z.avail_in = (uInt)b->len;
    z.next_out = out;
    z.avail_out = sizeof out;
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t got = sizeof out - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_OK && rc != Z_STREAM_END)
        abort();
    if (got && ((out[0] >> 3) == 0 || (out[0] & 7) > 5))
        abort(); /* field 0 or a bad wire type: not a protobuf */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    struct fin f = {data, n};
    struct ix_profile p;
    ix_profile_init(&p, "fuzz");
    int nt = 1 + fin_u8(&f) % IX_MAX_VALUES;
    for (int i = 0; i < nt; i++)
        ix_profile_add_type(&p, kTypes[fin_u8(&f) % 6], kUnits[fin_u8(&f) % 4]);
    p.period = (int64_t)fin_u64(&f);
    p.time_nanos = (int64_t)fin_u64(&f);
    p.duration_nanos = (int64_t)fin_u64(&f);
    p.default_type = (int)(fin_u8(&f) % (nt + 1)) - 1;
    char s[IX_MAX_LABELS][40]; /* one per label key (IX_MAX_LABELS grew to 8) */
    if (fin_u8(&f) & 1)
        ix_profile_comment(&p, "%s", fin_str(&f, s[0], 30));
    uintptr_t base[] = {(uintptr_t)&LLVMFuzzerTestOneInput, (uintptr_t)&memcpy,
                        (uintptr_t)&inflate, (uintptr_t)&ix_pprof_encode};
    int ns = fin_u8(&f) % 24;
    for (int k = 0; k < ns && f.n; k++) {
        uintptr_t pcs[16];
        int np = fin_u8(&f) % 17;
        for (int i = 0; i < np; i++) {
            uint8_t how = fin_u8(&f);
            if (how % 3 == 0)
                pcs[i] = base[how % 4] + fin_u8(&f);
            else if (how % 3 == 1)
                pcs[i] = fin_u8(&f); /* tiny, including 0 and 1 */
            else
                pcs[i] = (uintptr_t)fin_u64(&f);
        }
        int64_t vals[IX_MAX_VALUES];
        for (int i = 0; i < IX_MAX_VALUES; i++)
            vals[i] = (int64_t)fin_u64(&f) >> (fin_u8(&f) % 64);
        struct ix_label labels[IX_MAX_LABELS];
        int nl = fin_u8(&f) % (IX_MAX_LABELS + 1);
        for (int i = 0; i < nl; i++) {
            labels[i].key = fin_str(&f, s[i], 30);
            labels[i].str = (fin_u8(&f) & 1) ? "value\x01\xff" : NULL;
            labels[i].num = (int64_t)fin_u64(&f);
            labels[i].num_unit = (fin_u8(&f) & 1) ? "bytes" : NULL;
        }
        ix_profile_add(&p, pcs, np, vals, labels, nl);
    }
    struct ix_resolved r;
    if (ix_profile_resolve(&p, &r) == 0) {
        ix_buf b;
        ix_buf_init(&b);
        if (ix_pprof_encode(&r, &b) == 0)
            check_gzip(&b);
        ix_buf_free(&b);
        ix_resolved_free(&r);
    }
    ix_profile_free(&p);
    return 0;
}
