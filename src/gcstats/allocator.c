#include "gcstats/allocator.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/release.h"
#include "host/threads.h"
#include "sampling/heap/heap.h"
#include "sampling/heap/interpose.h"
#include "introspect.h"

enum kind { K_UNKNOWN, K_GLIBC, K_TCMALLOC, K_JEMALLOC };

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static enum kind g_kind;
static const char *g_path = "";

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef int (*tc_prop_fn)(const char *, size_t *);
typedef struct mallinfo2 (*mallinfo2_fn)(void);

/* tcmalloc's answer whether it handed out p (1: kOwned). */
static int tcmalloc_owns(const void *p)
{
    int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT, "MallocExtension_GetOwnership");
    return owns && owns(p) == 1;
}

static const char *object_path(const void *f)
{
    Dl_info di;
    return f && dladdr(f, &di) && di.dli_fname ? di.dli_fname : "";
}

/* Whether glibc's malloc served a 64 MiB block: above glibc's largest mmap
 * threshold (32 MiB), so it is a mapping of its own that mallinfo2 counts
 * in hblkhd. Nothing is touched: the mapping costs an mmap and a munmap. */
static int glibc_serves(void)
{
    mallinfo2_fn mi = (mallinfo2_fn)dlsym(RTLD_DEFAULT, "mallinfo2");
    if (!mi)
        return 0;
    size_t before = mi().hblkhd;
    void *volatile p = malloc((size_t)64 << 20);
    size_t after = mi().hblkhd;
    free(p);
    return p && after - before >= (size_t)64 << 20;
}

static void detect_by_asking(void)
{
    void *ctl = ix_release_jemalloc_ctl();
    void *volatile p = malloc(64);
    int tc = p && tcmalloc_owns(p);
    free(p);
    const void *libc_malloc = dlsym(RTLD_NEXT, "malloc"); /* past us and the program: libc's */
    if (ctl) {
        g_kind = K_JEMALLOC;
        g_path = object_path(ctl);
    } else if (tc) {
        g_kind = K_TCMALLOC;
        g_path = object_path(dlsym(RTLD_DEFAULT, "MallocExtension_GetOwnership"));
    } else if (dlsym(RTLD_DEFAULT, "mallctl")) { /* a jemalloc that keeps no counts */
        g_kind = K_JEMALLOC;
    } else if (glibc_serves()) {
        g_kind = K_GLIBC;
        g_path = object_path(libc_malloc);
    } else {
        g_kind = K_UNKNOWN;
    }
}

/* The object whose malloc hands out the memory: the next allocator when we
 * interpose, otherwise whoever's malloc the process calls. When that names
 * the program itself (a static allocator, or a non-PIE program's PLT stub
 * for malloc), the allocators are asked whether they served a malloc. */
static void detect(void)
{
    const void *m = ix_heap_next_malloc();
    if (!m || !ix_heap_interposing())
        m = dlsym(RTLD_DEFAULT, "malloc");
    g_path = object_path(m);
    if (strstr(g_path, "jemalloc"))
        g_kind = K_JEMALLOC;
    else if (strstr(g_path, "tcmalloc"))
        g_kind = K_TCMALLOC;
    else if (strstr(g_path, "libc.so"))
        g_kind = K_GLIBC;
    else
        detect_by_asking();
}

static void detect_as_module(void)
{
    ix_module_enter(NULL); /* the probes' blocks are the module's, not the host's */
    detect();
    ix_module_leave();
}

static enum kind kind(void)
{
    pthread_once(&g_once, detect_as_module);
    return g_kind;
}

const char *ix_allocator_name(void)
{
    static const char *const names[] = {"unknown", "glibc", "tcmalloc", "jemalloc"};
    return names[kind()];
}

const char *ix_allocator_path(void)
{
    kind();
    return g_path;
}

/* malloc_info's XML, for what mallinfo2 sums away: the number of arenas
 * and the largest one (threads contending on few arenas, or one arena
 * holding most of the memory). */
static void glibc_arenas(double *count, double *largest)
{
    int (*info)(int, FILE *) = (int (*)(int, FILE *))dlsym(RTLD_DEFAULT, "malloc_info");
    char *xml = NULL;
    size_t len = 0;
    FILE *f = info ? open_memstream(&xml, &len) : NULL;
    *count = *largest = 0;
    if (!f)
        return;
    int rc = info(0, f);
    fclose(f);
    for (const char *p = rc == 0 && xml ? strstr(xml, "<heap nr=") : NULL; p;
         p = strstr(p + 1, "<heap nr=")) {
        const char *end = strstr(p, "</heap>");
        const char *cur = strstr(p, "<system type=\"current\" size=\"");
        *count += 1;
        if (cur && end && cur < end) {
            double v = strtod(cur + strlen("<system type=\"current\" size=\""), NULL);
            if (v > *largest)
                *largest = v;
        }
    }
    free(xml);
}

static int glibc_stats(struct ix_alloc_stat *o)
{
    mallinfo2_fn mi = (mallinfo2_fn)dlsym(RTLD_DEFAULT, "mallinfo2");
    if (!mi)
        return 0;
    struct mallinfo2 m = mi();
    int n = 0;
    /* In use: arena chunks (uordblks) plus blocks mmapped on their own (hblkhd). */
    o[n++] = (struct ix_alloc_stat){"inuse_bytes", (double)(m.uordblks + m.hblkhd)};
    o[n++] = (struct ix_alloc_stat){"arena_inuse_bytes", (double)m.uordblks};
    o[n++] = (struct ix_alloc_stat){"free_bytes", (double)m.fordblks};
    o[n++] = (struct ix_alloc_stat){"arena_bytes", (double)m.arena};
    o[n++] = (struct ix_alloc_stat){"mmap_bytes", (double)m.hblkhd};
    o[n++] = (struct ix_alloc_stat){"mapped_bytes", (double)(m.arena + m.hblkhd)};
    o[n++] = (struct ix_alloc_stat){"releasable_bytes", (double)m.keepcost};
    o[n++] = (struct ix_alloc_stat){"free_chunks", (double)m.ordblks};
    o[n++] = (struct ix_alloc_stat){"mmap_chunks", (double)m.hblks};
    double arenas, largest;
    glibc_arenas(&arenas, &largest);
    if (arenas > 0) {
        o[n++] = (struct ix_alloc_stat){"arenas", arenas};
        o[n++] = (struct ix_alloc_stat){"largest_arena_bytes", largest};
    }
    return n;
}

static int tcmalloc_stats(struct ix_alloc_stat *o)
{
    static const struct {
        const char *prop, *name;
    } props[] = {
        {"generic.current_allocated_bytes", "inuse_bytes"},
        {"generic.heap_size", "mapped_bytes"},
        {"tcmalloc.pageheap_free_bytes", "pageheap_free_bytes"},
        {"tcmalloc.pageheap_unmapped_bytes", "pageheap_unmapped_bytes"},
        {"tcmalloc.current_total_thread_cache_bytes", "thread_cache_bytes"},
        {"tcmalloc.central_cache_free_bytes", "central_cache_free_bytes"},
        {"tcmalloc.transfer_cache_free_bytes", "transfer_cache_free_bytes"},
    };
    tc_prop_fn get = (tc_prop_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
    int n = 0;
    for (size_t i = 0; get && i < sizeof props / sizeof props[0]; i++) {
        size_t v = 0;
        if (get(props[i].prop, &v))
            o[n++] = (struct ix_alloc_stat){props[i].name, (double)v};
    }
    return n;
}

/* stats.arenas.<arena>.<field> into *v; 1 when jemalloc answered. */
static int arena_stat(mallctl_fn ctl, int arena, const char *field, size_t *v)
{
    char name[64];
    size_t sz = sizeof *v;
    snprintf(name, sizeof name, "stats.arenas.%d.%s", arena, field);
    return ctl(name, v, &sz, NULL, 0) == 0;
}

static int jemalloc_stats(struct ix_alloc_stat *o)
{
    static const struct {
        const char *ctl, *name;
    } ctls[] = {
        {"stats.allocated", "inuse_bytes"}, {"stats.active", "active_bytes"},
        {"stats.resident", "resident_bytes"}, {"stats.mapped", "mapped_bytes"},
        {"stats.retained", "retained_bytes"}, {"stats.metadata", "metadata_bytes"},
    };
    mallctl_fn ctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (!ctl)
        return 0;
    uint64_t epoch = 1;
    size_t sz = sizeof epoch;
    ctl("epoch", &epoch, &sz, &epoch, sz); /* refresh the cached statistics */
    int n = 0;
    for (size_t i = 0; i < sizeof ctls / sizeof ctls[0]; i++) {
        size_t v = 0;
        sz = sizeof v;
        if (ctl(ctls[i].ctl, &v, &sz, NULL, 0) == 0)
            o[n++] = (struct ix_alloc_stat){ctls[i].name, (double)v};
    }
    /* Freed pages jemalloc still holds (resident until purged or decayed):
     * all arenas merged (MALLCTL_ARENAS_ALL, 4096), then the module's own
     * arena (host/release.h): what it holds, and what it freed and still
     * holds. */
    size_t page = 0, psz = sizeof page, v;
    if (ctl("arenas.page", &page, &psz, NULL, 0) == 0 && arena_stat(ctl, 4096, "pdirty", &v))
        o[n++] = (struct ix_alloc_stat){"dirty_bytes", (double)v * (double)page};
    int a = ix_release_module_arena();
    if (a >= 0 && arena_stat(ctl, a, "resident", &v))
        o[n++] = (struct ix_alloc_stat){"module_resident_bytes", (double)v};
    if (a >= 0 && page && arena_stat(ctl, a, "pdirty", &v))
        o[n++] = (struct ix_alloc_stat){"module_dirty_bytes", (double)v * (double)page};
    return n;
}

int ix_allocator_stats(struct ix_alloc_stat *out)
{
    switch (kind()) {
    case K_GLIBC: return glibc_stats(out);
    case K_TCMALLOC: return tcmalloc_stats(out);
    case K_JEMALLOC: return jemalloc_stats(out);
    default: return 0;
    }
}

static uint64_t pick(const struct ix_alloc_stat *st, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(st[i].name, name))
            return (uint64_t)st[i].value;
    return 0;
}

static uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

int ix_allocator_heap(struct ix_alloc_heap *h)
{
    memset(h, 0, sizeof *h);
    enum kind k = kind();
    if (k == K_GLIBC) {
        /* Straight from mallinfo2, not through the list: malloc_info's XML is not needed. */
        mallinfo2_fn mi = (mallinfo2_fn)dlsym(RTLD_DEFAULT, "mallinfo2");
        if (!mi)
            return INTROSPECT_ELIBRARY;
        struct mallinfo2 m = mi();
        h->alloc = h->inuse = m.uordblks + m.hblkhd;
        h->sys = m.arena + m.hblkhd;
        h->idle = m.fordblks;
        return 0;
    }
    struct ix_alloc_stat st[IX_ALLOC_MAX_STATS];
    int n = ix_allocator_stats(st);
    if (n == 0)
        return INTROSPECT_ELIBRARY;
    if (k == K_TCMALLOC) {
        h->alloc = pick(st, n, "inuse_bytes");
        h->sys = pick(st, n, "mapped_bytes");
        h->released = pick(st, n, "pageheap_unmapped_bytes");
        h->idle = pick(st, n, "pageheap_free_bytes") + h->released;
        h->inuse = minus(h->sys, h->idle);
    } else {
        h->alloc = pick(st, n, "inuse_bytes");
        h->inuse = pick(st, n, "active_bytes");
        h->released = pick(st, n, "retained_bytes");
        h->sys = pick(st, n, "mapped_bytes") + h->released;
        h->idle = minus(h->sys, h->inuse);
        h->meta = pick(st, n, "metadata_bytes");
    }
    return 0;
}

void ix_allocator_headline(double *inuse_bytes, double *mapped_bytes)
{
    struct ix_alloc_stat st[IX_ALLOC_MAX_STATS];
    int n = ix_allocator_stats(st);
    *inuse_bytes = *mapped_bytes = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(st[i].name, "inuse_bytes"))
            *inuse_bytes = st[i].value;
        else if (!strcmp(st[i].name, "mapped_bytes"))
            *mapped_bytes = st[i].value;
    }
}
