/* The frames of one resolved sample, for the per-entry listings (thread
 * dump debug=2 and JSON, task birth stacks, Go's count-profile text):
 * inlined frames expanded, innermost first. */
#ifndef IX_FRAMES_H
#define IX_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "util/json.h"
#include "model/profile.h"
#include "util/buf.h"

struct ix_frame {
    uint64_t address;     /* pc - 1 */
    const char *function; /* "0x..." when unknown */
    const char *file;     /* NULL when unknown */
    int64_t line;         /* 0 when unknown */
    int inlined;          /* 1 for every frame of an address but its outermost */
    const struct ix_rmapping *mapping; /* NULL when none */
};

/* Call fn for each frame of sample si, innermost first. */
void ix_frames_each(const struct ix_resolved *r, size_t si,
                    void (*fn)(const struct ix_frame *f, void *arg), void *arg);
/* Go's goroutine-dump style, each line prefixed by indent:
 *   function()
 *   \tfile:line pc=0x...     (or object+0xoffset without line information) */
void ix_frames_text(const struct ix_resolved *r, size_t sample, const char *indent, ix_buf *b);
/* A JSON array of {address, function, file, line, inlined, mapping}. */
void ix_frames_json(const struct ix_resolved *r, size_t sample, introspect_json *j);

#endif
