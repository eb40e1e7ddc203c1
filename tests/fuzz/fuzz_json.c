/* The JSON writer (the one behind introspect_json_* and every JSON
 * endpoint) driven by random call sequences with random strings and
 * numbers. Oracle: whenever the writer says the document is complete, the
 * text is valid JSON (checked by a strict parser); misuse must be reported,
 * never produce broken output. */
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "fuzz_input.h"
#include "json_check.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    struct fin f = {data, n};
    ix_buf b;
    ix_buf_init(&b);
    introspect_json j;
    ix_json_init(&j, &b);
    char s[96];
    int ops = 0;
    while (f.n && ops++ < 400) {
        switch (fin_u8(&f) % 12) {
        case 0: introspect_json_object_begin(&j); break;
        case 1: introspect_json_object_end(&j); break;
        case 2: introspect_json_array_begin(&j); break;
        case 3: introspect_json_array_end(&j); break;
        case 4: introspect_json_key(&j, fin_str(&f, s, 90)); break;
        case 5: introspect_json_int(&j, (int64_t)fin_u64(&f)); break;
        case 6: introspect_json_float(&j, fin_double(&f)); break;
        case 7: introspect_json_string(&j, fin_str(&f, s, 90)); break;
        case 8: introspect_json_bool(&j, fin_u8(&f) & 1); break;
        case 9: introspect_json_null(&j); break;
        case 10: ix_json_uint(&j, fin_u64(&f)); break;
        default: { /* a well-formed nested render inserted raw */
            ix_buf inner;
            ix_buf_init(&inner);
            ix_json_quote(&inner, fin_str(&f, s, 90));
            ix_json_raw(&j, inner.data ? inner.data : "\"\"", inner.len ? inner.len : 2);
            ix_buf_free(&inner);
        }
        }
    }
    if (ix_json_complete(&j) && !b.oom && !json_check(b.data, b.len))
        abort();
    ix_buf_free(&b);
    return 0;
}
