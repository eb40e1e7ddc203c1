#include "host/release.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* MALLCTL_ARENAS_ALL (jemalloc >= 4.4); older ones purge arena by arena. */
static void jemalloc_purge(mallctl_fn ctl)
{
    if (ctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0)
        return;
    unsigned narenas = 0;
    size_t sz = sizeof narenas;
    if (ctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0)
        return;
    for (unsigned i = 0; i < narenas; i++) {
        char name[32];
        snprintf(name, sizeof name, "arena.%u.purge", i);
        ctl(name, NULL, NULL, NULL, 0);
    }
}

void ix_release_free_memory(void)
{
    malloc_trim(0);
    mallctl_fn ctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (ctl)
        jemalloc_purge(ctl);
    void (*release)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory");
    if (release)
        release();
}
