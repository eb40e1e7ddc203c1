/* Placeholder until the real text encoders land (symbols/encoders work). */
#include "format/encoders.h"

int ix_folded_encode(const struct ix_resolved *r, int value_index, ix_buf *out)
{
    (void)r; (void)value_index; (void)out;
    return -1;
}

int ix_profile_json_encode(const struct ix_resolved *r, ix_buf *out)
{
    (void)r; (void)out;
    return -1;
}

int ix_text_top_encode(const struct ix_resolved *r, int value_index, ix_buf *out)
{
    (void)r; (void)value_index; (void)out;
    return -1;
}
