/* Making the fast order automatic when another allocator precedes us.
 *
 * With LD_PRELOAD="libtcmalloc.so.4 libintrospect.so" (or jemalloc first, or
 * an allocator linked into the program before us) symbol lookup binds every
 * object's malloc to that allocator, and our malloc is never called. The
 * hooks gperftools offers (MallocHook) take tcmalloc off its fast path (7x
 * of plain tcmalloc on bench/cost), and jemalloc offers none. So at start we
 * rebind instead, as heaptrack's runtime attach does: in every loaded object
 * the GOT slots (R_X86_64_JUMP_SLOT and R_X86_64_GLOB_DAT relocations) of
 * malloc, free, calloc, realloc and the aligned entry points are pointed at
 * our definitions, and our interposer forwards to the allocator's
 * (interpose.c, ix_heap_forward_to_default). That is the cost of the other
 * order, introspect first: a tail call per call.
 *
 * Left alone: the allocator's own object (its internal references stay its
 * own) and the dynamic loader. Only slots that hold the allocator's function
 * (or a not yet bound lazy PLT stub of their own object) are rewritten, so a
 * library bound elsewhere (dlmopen namespaces, DT_DEEPBIND) keeps its malloc.
 * Slots in the RELRO segment are made writable for the write and read-only
 * again. Objects loaded later bind to the allocator directly: their blocks
 * reach our free (forwarded, unsampled) or the allocator's (a sampled block
 * freed there stays in the profile as live), so dlopen and dlmopen are
 * rebound too and every dlopen redoes the pass (idempotent: a slot already
 * ours is not theirs). Blocks allocated before the pass are freed through us
 * to the allocator, unsampled. x86-64 only (the relocation types).
 *
 * Standing aside is the same pass the other way: with heap sampling off,
 * slots that hold our functions are pointed at the allocator's, so the
 * process's calls skip us altogether (the interposer's +26 instructions per
 * malloc+free pair were ~5% of a malloc-bound program; bench/README.md,
 * "Cost"). Our own object keeps its slots (module allocations stay ours).
 * free, realloc and malloc_usable_size stay ours when a live block needs
 * us: a bootstrap-arena block (glibc's free would abort on it) or a sample
 * (its free must leave the address set). Objects loaded later bind to us
 * by lookup order and are served as before, counted, never sampled. */
#include "sampling/heap/redirect.h"
#include "introspect.h"

#include "sampling/heap/internal.h"
#include "sampling/heap/interpose.h"

#if IX_HEAP_INTERPOSE && defined(__x86_64__)

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const g_names[] = {"malloc",        "free",          "calloc",
                                      "realloc",       "reallocarray",  "posix_memalign",
                                      "aligned_alloc", "memalign",      "valloc",
                                      "pvalloc",       "malloc_usable_size"};
#define NNAMES (sizeof g_names / sizeof g_names[0])

static void *g_theirs[NNAMES + 2]; /* the allocator's functions, + dlopen, dlmopen */
static void *g_ours[NNAMES + 2];
static uintptr_t g_alloc_lo, g_alloc_hi; /* the allocator's object */
static pthread_mutex_t g_pass_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_active;
static unsigned long g_rebound;
/* The direction of the passes: 0 theirs -> ours (redirect, step in), 1 ours
 * -> theirs (stand aside), with the names that move (a bit per g_names index;
 * dlopen and dlmopen only toward ours). */
static int g_aside;
static unsigned g_aside_names;
static uintptr_t g_self_lo, g_self_hi; /* our object: never stood aside */

static void *(*g_dlopen)(const char *, int);
static void *(*g_dlmopen)(Lmid_t, const char *, int);

struct range {
    uintptr_t lo, hi;
};

static struct range object_range(const struct dl_phdr_info *info)
{
    struct range r = {UINTPTR_MAX, 0};
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < r.lo)
            r.lo = a;
        if (a + ph->p_memsz > r.hi)
            r.hi = a + ph->p_memsz;
    }
    return r;
}

static int find_range(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct range *q = arg, r = object_range(info);
    if (q->lo >= r.lo && q->lo < r.hi) {
        *q = r;
        return 1;
    }
    return 0;
}

/* The index of s in g_names (then dlopen, dlmopen), or -1 (a value: none). */
static long name_index(const char *s)
{
    /* Most relocations name something else: reject them on one character. */
    if (!strchr("mfcrpavd", s[0]) || !s[0])
        return -1;
    for (size_t i = 0; i < NNAMES + 2; i++) {
        const char *n = i < NNAMES ? g_names[i] : i == NNAMES ? "dlopen" : "dlmopen";
        if (strcmp(s, n) == 0)
            return (long)i;
    }
    return -1;
}

static void write_slot(void **slot, void *to, struct range relro)
{
    uintptr_t a = (uintptr_t)slot;
    if (a >= relro.lo && a < relro.hi) {
        long pg = sysconf(_SC_PAGESIZE);
        uintptr_t page = a & ~(uintptr_t)(pg - 1);
        if (mprotect((void *)page, (size_t)pg, PROT_READ | PROT_WRITE))
            return;
        __atomic_store_n(slot, to, __ATOMIC_RELEASE);
        mprotect((void *)page, (size_t)pg, PROT_READ);
    } else {
        __atomic_store_n(slot, to, __ATOMIC_RELEASE);
    }
    g_rebound++;
}

static void rebind_relocs(uintptr_t base, const ElfW(Rela) *rel, size_t bytes, const ElfW(Sym) *sym,
                          const char *str, struct range self, struct range relro)
{
    for (size_t i = 0; i < bytes / sizeof *rel; i++) {
        unsigned long type = ELF64_R_TYPE(rel[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            continue;
        unsigned long si = ELF64_R_SYM(rel[i].r_info);
        if (!si)
            continue;
        long k = name_index(str + sym[si].st_name);
        if (k < 0 || !g_ours[k] || !g_theirs[k])
            continue;
        if (g_aside && (k >= (long)NNAMES || !(g_aside_names & (1u << k))))
            continue;
        void *from = g_aside ? g_ours[k] : g_theirs[k], *to = g_aside ? g_theirs[k] : g_ours[k];
        void **slot = (void **)(base + rel[i].r_offset);
        void *cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (cur == to)
            continue;
        /* A slot bound to `from`, or a lazy slot still at its PLT stub
         * (the loader would bind it to the first definition: ours). */
        if (cur == from ||
            (type == R_X86_64_JUMP_SLOT && (uintptr_t)cur >= self.lo && (uintptr_t)cur < self.hi))
            write_slot(slot, to, relro);
    }
}

static int rebind_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    struct range self = object_range(info), relro = {0, 0};
    if (self.lo == UINTPTR_MAX || (self.lo < g_alloc_hi && self.hi > g_alloc_lo))
        return 0; /* the allocator's object */
    if (g_aside && self.lo < g_self_hi && self.hi > g_self_lo)
        return 0;
    if (info->dlpi_name && strstr(info->dlpi_name, "ld-linux"))
        return 0;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO)
            relro = (struct range){info->dlpi_addr + ph->p_vaddr,
                                   info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
    }
    if (!dyn)
        return 0;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const ElfW(Rela) *jmprel = NULL, *rela = NULL;
    size_t jmpsz = 0, relasz = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        /* ld.so has relocated these d_ptr entries to addresses (the vDSO's are not). */
        switch (dyn->d_tag) {
        case DT_SYMTAB: sym = (const ElfW(Sym) *)dyn->d_un.d_ptr; break;
        case DT_STRTAB: str = (const char *)dyn->d_un.d_ptr; break;
        case DT_JMPREL: jmprel = (const ElfW(Rela) *)dyn->d_un.d_ptr; break;
        case DT_PLTRELSZ: jmpsz = dyn->d_un.d_val; break;
        case DT_RELA: rela = (const ElfW(Rela) *)dyn->d_un.d_ptr; break;
        case DT_RELASZ: relasz = dyn->d_un.d_val; break;
        default: break;
        }
    }
    if (!sym || !str || (uintptr_t)sym < self.lo || (uintptr_t)str < self.lo)
        return 0; /* not relocated (the vDSO): nothing bound here */
    if (jmprel)
        rebind_relocs(info->dlpi_addr, jmprel, jmpsz, sym, str, self, relro);
    if (rela)
        rebind_relocs(info->dlpi_addr, rela, relasz, sym, str, self, relro);
    return 0;
}

static void pass(void)
{
    pthread_mutex_lock(&g_pass_lock);
    dl_iterate_phdr(rebind_object, NULL);
    pthread_mutex_unlock(&g_pass_lock);
}

/* A fork while another thread is inside a pass would leave the child with
 * the lock held (its next dlopen would hang) and some GOT pages writable:
 * no fork starts mid-pass. */
static void fork_prepare(void) { pthread_mutex_lock(&g_pass_lock); }
static void fork_done(void) { pthread_mutex_unlock(&g_pass_lock); }
static void fork_register(void) { pthread_atfork(fork_prepare, fork_done, fork_done); }
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;

static void *redirect_dlopen(const char *file, int flags)
{
    void *h = g_dlopen(file, flags);
    if (h && g_active)
        pass();
    return h;
}

static void *redirect_dlmopen(Lmid_t lm, const char *file, int flags)
{
    void *h = g_dlmopen(lm, file, flags);
    if (h && g_active)
        pass();
    return h;
}

int ix_heap_redirect(void)
{
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    const void *const *ours = ix_heap_entry_points();
    if (!m || m == ours[0])
        return INTROSPECT_EINVAL;
    struct range alloc = {(uintptr_t)m, 0};
    if (!dl_iterate_phdr(find_range, &alloc))
        return INTROSPECT_ESYS;
    /* The allocator's own functions, and ours to put in their place; an
     * entry point it does not define in its object is left bound as it is. */
    for (size_t i = 0; i < NNAMES; i++) {
        void *f = dlsym(RTLD_DEFAULT, g_names[i]);
        if (f && (uintptr_t)f >= alloc.lo && (uintptr_t)f < alloc.hi) {
            g_theirs[i] = f;
            g_ours[i] = (void *)ours[i];
        }
    }
    if (!g_theirs[0] || !g_theirs[1] || !g_theirs[3])
        return INTROSPECT_EINVAL; /* malloc, free and realloc must all be the allocator's */
    if (ix_heap_forward_to_default())
        return INTROSPECT_ESYS;
    g_dlopen = (void *(*)(const char *, int))dlsym(RTLD_DEFAULT, "dlopen");
    g_dlmopen = (void *(*)(Lmid_t, const char *, int))dlsym(RTLD_DEFAULT, "dlmopen");
    if (g_dlopen) {
        g_theirs[NNAMES] = (void *)g_dlopen;
        g_ours[NNAMES] = (void *)redirect_dlopen;
    }
    if (g_dlmopen) {
        g_theirs[NNAMES + 1] = (void *)g_dlmopen;
        g_ours[NNAMES + 1] = (void *)redirect_dlmopen;
    }
    g_alloc_lo = alloc.lo;
    g_alloc_hi = alloc.hi;
    g_active = 1;
    pthread_once(&g_fork_once, fork_register); /* once: a restart runs here again */
    pass();
    return g_rebound ? 0 : INTROSPECT_ESYS;
}

unsigned long ix_heap_redirected_slots(void) { return g_rebound; }

/* Interposing (we are first): "theirs" is the next allocator we forward to. */
static int theirs_are_next(void)
{
    const void *const *ours = ix_heap_entry_points();
    const void *next[NNAMES];
    ix_heap_next_entry_points(next);
    if (!next[0])
        return INTROSPECT_ESYS;
    struct range alloc = {(uintptr_t)next[0], 0};
    if (!dl_iterate_phdr(find_range, &alloc))
        return INTROSPECT_ESYS;
    for (size_t i = 0; i < NNAMES; i++) {
        g_theirs[i] = (void *)next[i];
        g_ours[i] = next[i] ? (void *)ours[i] : NULL;
    }
    g_alloc_lo = alloc.lo;
    g_alloc_hi = alloc.hi;
    return 0;
}

int ix_heap_stand_aside(int keep_free)
{
    if (!g_active && theirs_are_next())
        return INTROSPECT_ESYS;
    struct range self = {(uintptr_t)ix_heap_entry_points()[0], 0};
    if (!dl_iterate_phdr(find_range, &self))
        return INTROSPECT_ESYS;
    unsigned long before = g_rebound;
    pthread_mutex_lock(&g_pass_lock);
    g_self_lo = self.lo;
    g_self_hi = self.hi;
    g_aside_names = 0;
    for (size_t i = 0; i < NNAMES; i++) {
        int needs_us = !strcmp(g_names[i], "free") || !strcmp(g_names[i], "realloc") ||
                       !strcmp(g_names[i], "malloc_usable_size");
        if (!needs_us || !keep_free)
            g_aside_names |= 1u << i;
    }
    g_aside = 1;
    dl_iterate_phdr(rebind_object, NULL);
    pthread_mutex_unlock(&g_pass_lock);
    pthread_once(&g_fork_once, fork_register);
    return (int)(g_rebound - before > 0x7fffffff ? 0x7fffffff : g_rebound - before);
}

int ix_heap_step_in(void)
{
    pthread_mutex_lock(&g_pass_lock);
    int was = g_aside;
    g_aside = 0;
    if (was)
        dl_iterate_phdr(rebind_object, NULL);
    pthread_mutex_unlock(&g_pass_lock);
    return 0;
}

#else

int ix_heap_redirect(void) { return INTROSPECT_EINVAL; }
unsigned long ix_heap_redirected_slots(void) { return 0; }
int ix_heap_stand_aside(int keep_free)
{
    (void)keep_free;
    return INTROSPECT_EINVAL;
}
int ix_heap_step_in(void) { return 0; }

#endif
