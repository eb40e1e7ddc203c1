/* The frames of one resolved sample, for the per-entry listings (thread
 * dump debug=2 and JSON, task birth stacks): inlined frames expanded,
 * innermost first. */
#ifndef IX_FRAMES_H
#define IX_FRAMES_H

#include <stddef.h>

#include "format/json.h"
#include "model/profile.h"
#include "util/buf.h"

/* Go's goroutine-dump style, each line prefixed by indent:
 *   function()
 *   \tfile:line pc=0x...     (or object+0xoffset without line information) */
void ix_frames_text(const struct ix_resolved *r, size_t sample, const char *indent, ix_buf *b);
/* A JSON array of {address, function, file, line, inlined, mapping}. */
void ix_frames_json(const struct ix_resolved *r, size_t sample, introspect_json *j);

#endif
