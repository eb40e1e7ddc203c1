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

/* Go's contention text (block and mutex at debug=1, runtime/pprof
 * writeProfileInternal), which `go tool pprof` parses (legacy_profile.go
 * parseContention):
 *
 *   --- contention:
 *   cycles/second=1000000000
 *   <delay> <count> @ 0x4005d0 0x400a1b
 *   #	0x4005cf	pool_wait	/src/app.c:42
 *   <blank line>
 *
 * Go writes CPU cycles and their rate; we write nanoseconds with a rate of
 * 1e9 per second, which pprof turns back into the same delay/nanoseconds.
 * r's sample types must be contentions/count then delay/nanoseconds; samples
 * are written by delay, largest first. name: "contention" or "mutex". */
int ix_contention_text_encode(const struct ix_resolved *r, const char *name, ix_buf *out);
/* 1 when p's sample types are contentions/count, delay/nanoseconds. */
int ix_is_contention_profile(const struct ix_profile *p);

#endif
