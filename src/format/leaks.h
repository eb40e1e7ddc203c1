/* Encoders of the leak sentinel's report (model/leak_report.h): text for people,
 * JSON for the UI and scripts (docs/leaks.md). stacks is the resolved
 * ix_leaks_stacks() profile, sample_of its sample index per suspect (-1: none). */
#ifndef IX_FORMAT_LEAKS_H
#define IX_FORMAT_LEAKS_H

#include "model/leak_report.h"
#include "model/profile.h"
#include "util/buf.h"

int ix_leaks_text_encode(const struct ix_leak_report *r, const struct ix_resolved *stacks,
                         const int *sample_of, ix_buf *out);
int ix_leaks_json_encode(const struct ix_leak_report *r, const struct ix_resolved *stacks,
                         const int *sample_of, ix_buf *out);

#endif
