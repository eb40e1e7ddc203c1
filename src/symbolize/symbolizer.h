/* Symbolization, always off the signal path: addresses -> function, file,
 * line (inlined frames first) and the mapping (object file, build ID). A
 * symbolizer snapshots /proc/self/maps when created; make one per encode.
 * The parsed object files behind it are cached process-wide (symbolize/objects.h), so
 * creating one is cheap after the first. Mapping 0 is the main executable.
 * Environment: INTROSPECT_DEBUGINFO_PATH replaces elfutils' debug-file
 * search path ("-:.debug:/usr/lib/debug"), read at the first use. */
#ifndef IX_SYMBOLS_H
#define IX_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct ix_symbolizer;

struct ix_sym_line {
    const char *function; /* owned by the symbolizer */
    const char *file;     /* NULL when unknown */
    int line;             /* 0 when unknown */
};

struct ix_mapping_info {
    uintptr_t start, limit, offset;
    const char *path;
    const char *build_id; /* hex, or "" */
};

struct ix_symbolizer *ix_symbolizer_new(void);
/* The same over another process's /proc/PID/maps (the process tree's root
 * symbolizing a child: same files, its own address space). Its [vdso]
 * frames stay unknown. NULL when the maps cannot be read. */
struct ix_symbolizer *ix_symbolizer_new_pid(int pid);
void ix_symbolizer_free(struct ix_symbolizer *s);
/* addr points inside the instruction (already pc - 1 for return addresses).
 * Fills up to max lines, inlined callee first; returns the count, 0 = unknown. */
int ix_symbolize(struct ix_symbolizer *s, uintptr_t addr, struct ix_sym_line *lines, int max);
/* Index of the executable mapping containing addr, or -1. */
int ix_symbolizer_find_mapping(struct ix_symbolizer *s, uintptr_t addr);
size_t ix_symbolizer_nmappings(const struct ix_symbolizer *s);
const struct ix_mapping_info *ix_symbolizer_mapping(const struct ix_symbolizer *s, size_t i);

#endif
