/* libdeflate (Debian's libdeflate0), opened at the first use.
 *
 * It compresses and decompresses whole buffers two to three times faster
 * than zlib. It is dlopen'ed rather than linked: nothing to build against,
 * and the module still loads where it is missing (callers then use zlib).
 * Profiles are gzipped with it (format/gzip.c), and the compressed debug
 * sections symbolization reads are inflated with it (symbolize/dwarf_open.c). */
#ifndef IX_UTIL_LIBDEFLATE_H
#define IX_UTIL_LIBDEFLATE_H

#include <stddef.h>

struct ix_libdeflate {
    void *(*alloc_compressor)(int level);
    size_t (*gzip_compress_bound)(void *c, size_t n);
    size_t (*gzip_compress)(void *c, const void *in, size_t n, void *out, size_t avail);
    void (*free_compressor)(void *c);
    void *(*alloc_decompressor)(void);
    /* 0 (LIBDEFLATE_SUCCESS) when in inflates to exactly avail bytes (actual NULL) */
    int (*zlib_decompress)(void *d, const void *in, size_t n, void *out, size_t avail,
                           size_t *actual);
    void (*free_decompressor)(void *d);
};

/* The table, or NULL when libdeflate is not installed. Thread-safe. */
const struct ix_libdeflate *ix_libdeflate(void);

#endif
