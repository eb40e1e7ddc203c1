/* Go's legacy text for count profiles (goroutine and threadcreate at
 * debug=1), which `go tool pprof` also parses:
 *
 *   <name> profile: total N
 *   3 @ 0x4005d0 0x400a1b
 *   # labels: {"thread":"worker*3"}
 *   #	0x4005cf	blocked_in_read	/src/app.c:42
 *   #	0x400a1a	worker_main	/src/app.c:80
 *   <blank line>
 *
 * Samples are written most common first; "@" lines carry the raw pcs (the
 * profile model's convention), "#" lines pc - 1 with function and file:line
 * (inlined frames on lines of their own). value_index picks the count. */
#ifndef IX_COUNT_TEXT_H
#define IX_COUNT_TEXT_H

#include "model/profile.h"
#include "util/buf.h"

int ix_count_text_encode(const struct ix_resolved *r, const char *name, int value_index,
                         ix_buf *out);

#endif
