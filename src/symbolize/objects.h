/* One object file (executable or shared library) parsed for symbolization,
 * and the process-wide cache of them.
 *
 * Objects are read from their files, never from process memory, with
 * elfutils (libdwfl/libdw): function names from .symtab (static functions
 * included) or .dynsym, file/line and inlined frames from DWARF, and separate
 * debug files found through /usr/lib/debug/.build-id/xx/rest.debug or
 * .gnu_debuglink. Addresses here are ELF virtual addresses of the file (the
 * symbolizer converts runtime addresses through the mapping's file offset).
 *
 * The cache is keyed by path + device + inode + mtime + size, so a library
 * replaced on disk is parsed again. It holds at most IX_SYMOBJ_MAX unused
 * objects (least recently used go first); objects in use by a symbolizer are
 * reference counted and never freed under it. Each object also remembers
 * resolved addresses (bounded, strings owned), so a warm profile symbolizes
 * quickly; the parsed symbol table and DWARF themselves are kept only while
 * the object is referenced (one request), unless INTROSPECT_SYMBOL_KEEP_PARSED
 * is set (objects.c, "keep answers, not parsers").
 * Unused objects are dropped after INTROSPECT_SYMBOL_IDLE_S seconds (default
 * 30) without a lookup, and their memory handed back (objects.c).
 * Every function is thread-safe. */
#ifndef IX_SYMOBJ_H
#define IX_SYMOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize/symbolizer.h"

#define IX_SYMOBJ_MAX 64

struct ix_symobj;

/* The cached object for path, checked against the mapping's device and
 * inode (0, 0 = do not check), with a reference taken; NULL when the file
 * cannot be opened or is not ELF. alt_path, when non-NULL, is tried when
 * path does not match (e.g. /proc/self/map_files/... for a deleted file). */
struct ix_symobj *ix_symobj_get(const char *path, const char *alt_path, uint64_t dev,
                                uint64_t ino);
void ix_symobj_put(struct ix_symobj *o);
/* The GNU build ID as lowercase hex, or "" when the file has none. */
const char *ix_symobj_build_id(const struct ix_symobj *o);
/* ELF virtual address of a file offset (through the PT_LOAD headers);
 * 0 on success, INTROSPECT_EADDR when no loadable segment covers it. */
int ix_symobj_vaddr(const struct ix_symobj *o, uint64_t file_offset, uint64_t *vaddr);
/* Frames at vaddr, inlined callee first (as ix_symbolize). Strings stay
 * valid while the caller holds its reference. */
int ix_symobj_lookup(struct ix_symobj *o, uint64_t vaddr, struct ix_sym_line *lines, int max);
/* Hand the pages of parsing sessions closed since the last call back to
 * the kernel (malloc_trim); the symbolizer calls it when it is freed. */
void ix_symobj_trim(void);
/* Drop every unused cached object (tests and benchmarks: a cold start). */
void ix_symobj_flush(void);
/* Times an object's symbols and DWARF were read (its first lookup after
 * being opened or reopened): the cost of cold profiles. */
unsigned long ix_symobj_parses(void);
/* Objects in the cache now (tests: the idle flush). */
size_t ix_symobj_cached(void);
/* The module's start and stop (modules.c): from start, unused objects are
 * dropped after INTROSPECT_SYMBOL_IDLE_S seconds without a lookup, by a
 * module thread; stop ends and joins it (the cache itself stays). */
struct ix_config;
int ix_symobj_reaper_start(const struct ix_config *cfg, char *why, size_t whylen);
void ix_symobj_reaper_stop(void);
/* In a forked child: the module thread that may have held the cache or
 * elfutils lock at the fork is gone; both locks start fresh, and a cache
 * a gone thread was changing is abandoned (objects.c). */
void ix_symobj_forked(void);

#endif
