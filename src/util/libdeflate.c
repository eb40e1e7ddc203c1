#include "util/libdeflate.h"

#include <dlfcn.h>
#include <pthread.h>

static struct ix_libdeflate table;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_lib(void)
{
    void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    *(void **)&table.alloc_compressor = dlsym(h, "libdeflate_alloc_compressor");
    *(void **)&table.gzip_compress_bound = dlsym(h, "libdeflate_gzip_compress_bound");
    *(void **)&table.gzip_compress = dlsym(h, "libdeflate_gzip_compress");
    *(void **)&table.free_compressor = dlsym(h, "libdeflate_free_compressor");
    *(void **)&table.alloc_decompressor = dlsym(h, "libdeflate_alloc_decompressor");
    *(void **)&table.zlib_decompress = dlsym(h, "libdeflate_zlib_decompress");
    *(void **)&table.free_decompressor = dlsym(h, "libdeflate_free_decompressor");
    /* the handle stays open either way: a failed dlclose is no gain */
    loaded = table.alloc_compressor && table.gzip_compress_bound && table.gzip_compress &&
             table.free_compressor && table.alloc_decompressor && table.zlib_decompress &&
             table.free_decompressor;
}

const struct ix_libdeflate *ix_libdeflate(void)
{
    pthread_once(&once, open_lib);
    return loaded ? &table : NULL;
}
