#include "host/release.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* Set once by ix_release_prepare (__atomic stores) before the threads that
 * read them exist. Plain objects: ix_release_bind_thread reads them before
 * ThreadSanitizer has set its thread up, where no atomic may be called. */
static mallctl_fn g_ctl;       /* jemalloc's mallctl, once found */
static int g_arena = -1;       /* the module's arena */
static atomic_int g_prepared;  /* 0 not yet, 1 preparing, 2 done */

/* jemalloc's mallctl, only if jemalloc serves this process's malloc: a host
 * may load jemalloc and still run on tcmalloc preloaded first, whose memory
 * only tcmalloc gives back. Asked of jemalloc itself (its count of this
 * thread's allocated bytes moves with a malloc): the symbols cannot tell, as
 * a non-PIE program's malloc resolves to its own PLT stub. */
static mallctl_fn g_serving;
static pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;

static void probe_jemalloc(void)
{
    mallctl_fn ctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    uint64_t before = 0, after = 0;
    size_t sz = sizeof before;
    if (!ctl || ctl("thread.allocated", &before, &sz, NULL, 0) != 0)
        return;
    void *volatile p = malloc(4096);
    sz = sizeof after;
    int rc = ctl("thread.allocated", &after, &sz, NULL, 0);
    free(p);
    if (rc == 0 && after - before >= 4096)
        g_serving = ctl;
}

void *ix_release_jemalloc_ctl(void)
{
    pthread_once(&g_probe_once, probe_jemalloc);
    return (void *)g_serving;
}

void ix_release_prepare(void)
{
    int st = 0;
    if (atomic_load(&g_prepared) == 2 || !atomic_compare_exchange_strong(&g_prepared, &st, 1))
        return; /* done, or another thread is at it (a thread started meanwhile
                 * keeps the arena jemalloc gave it: not purged, as before) */
    mallctl_fn ctl = (mallctl_fn)ix_release_jemalloc_ctl();
    unsigned a = 0;
    size_t sz = sizeof a;
    if (ctl && ctl("arenas.create", &a, &sz, NULL, 0) == 0 && a < INT32_MAX)
        __atomic_store_n(&g_arena, (int)a, __ATOMIC_RELEASE);
    __atomic_store_n(&g_ctl, ctl, __ATOMIC_RELEASE);
    atomic_store(&g_prepared, 2);
}

/* Called from the module threads' trampoline (host/threads.c): no
 * instrumented access, no atomic. */
__attribute__((no_sanitize_thread)) void ix_release_bind_thread(void)
{
    mallctl_fn ctl = g_ctl;
    int a = g_arena;
    if (ctl && a >= 0) {
        unsigned ua = (unsigned)a;
        ctl("thread.arena", NULL, NULL, &ua, sizeof ua);
    }
}

int ix_release_module_arena(void) { return __atomic_load_n(&g_arena, __ATOMIC_ACQUIRE); }

void ix_release_module_memory(void)
{
    mallctl_fn ctl = __atomic_load_n(&g_ctl, __ATOMIC_ACQUIRE);
    int a = __atomic_load_n(&g_arena, __ATOMIC_ACQUIRE);
    if (!ctl || a < 0)
        return;
    unsigned cur = 0;
    size_t sz = sizeof cur;
    /* A thread that did not bind (the host's, calling the API) would purge
     * the host's arena: only the module's. */
    if (ctl("thread.arena", &cur, &sz, NULL, 0) != 0 || cur != (unsigned)a)
        return;
    ctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    char name[32];
    snprintf(name, sizeof name, "arena.%d.purge", a);
    ctl(name, NULL, NULL, NULL, 0);
}

/* Resident bytes, from /proc/self/statm (its second field, in pages). */
static size_t resident_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SIZE_MAX;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return SIZE_MAX;
    buf[n] = '\0';
    unsigned long size = 0, resident = 0;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return SIZE_MAX;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void ix_release_free_memory(void)
{
    ix_release_module_memory();
    if (__atomic_load_n(&g_ctl, __ATOMIC_ACQUIRE) || resident_bytes() > IX_RELEASE_MAX_RSS)
        return; /* jemalloc: its module arena is all the module's */
    malloc_trim(0); /* glibc's arenas: nearly empty under tcmalloc, so cheap there */
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
