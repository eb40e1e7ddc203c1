#include "symbolize/elfutils_lib.h"
#include "introspect.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct ix_elfutils ix_dw;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = INTROSPECT_ELIBRARY;

/* libelf's symbols are looked up in libelf itself, libdw's in libdw: dlsym
 * on libdw's handle would find libelf's too (a dependency), but naming the
 * library that owns each symbol keeps a missing one's note exact. */
static void *open_lib(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        fprintf(stderr,
                "introspect: symbolization off (addresses only): cannot load %s "
                "(install libdw1): %s\n",
                soname, e ? e : "unknown error");
    }
    return h;
}

static void load(void)
{
    void *dw = open_lib("libdw.so.1");
    if (!dw)
        return;
    void *elf = open_lib("libelf.so.1");
    if (!elf)
        return;
    const char *missing = NULL;
#define IX_ELFUTILS_RESOLVE(name)                                                                  \
    if (!missing) {                                                                                \
        void *p = dlsym(#name[0] == 'd' ? dw : elf, #name);                                        \
        if (!p)                                                                                    \
            missing = #name;                                                                       \
        *(void **)&ix_dw.name = p;                                                                 \
    }
    IX_ELFUTILS_FUNCS(IX_ELFUTILS_RESOLVE)
#undef IX_ELFUTILS_RESOLVE
    if (missing) {
        fprintf(stderr, "introspect: symbolization off (addresses only): elfutils has no %s\n",
                missing);
        return; /* the handles stay open: harmless */
    }
    load_rc = 0;
}

int ix_elfutils_load(void)
{
    pthread_once(&once, load);
    return load_rc;
}
