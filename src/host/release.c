#include "host/release.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

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

void ix_release_thread_stack(void)
{
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    void *lo = NULL;
    size_t size = 0;
    pthread_attr_getstack(&a, &lo, &size); /* lo: the lowest usable byte, guard excluded */
    pthread_attr_destroy(&a);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    /* Keep 64 KB below this frame for the calls still to come (the wait). */
    uintptr_t top = ((uintptr_t)__builtin_frame_address(0) - 65536) & ~(page - 1);
    uintptr_t base = ((uintptr_t)lo + page - 1) & ~(page - 1);
    if (lo && top > base && top - base <= size)
        madvise((void *)base, top - base, MADV_DONTNEED);
}
