/* Parsed object files and their cache (see symbolize/objects.h).
 *
 * Why elfutils rather than our own ELF/DWARF reader: libdwfl already finds
 * separate debug files (build-id directories, .gnu_debuglink, MiniDebugInfo),
 * reads compressed sections and every DWARF version gcc and clang emit, and
 * is what perf and systemd-coredump use; a home-grown DIE walker would be
 * thousands of lines to get the same coverage. Line tables are the one
 * exception (symbolize/lines.c: a fifth of a cold profile's instructions
 * and its largest block of memory in libdw), checked against libdw and
 * falling back to it for anything the decoder does not read.
 *
 * Each object gets its own Dwfl session with the file reported at bias 0,
 * so lookups take ELF virtual addresses and one parsed object serves every
 * process layout (and survives dlclose/dlopen at another address). */
#include "symbolize/objects.h"
#include "introspect.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "host/release.h"
#include "host/threads.h"
#include "symbolize/dwarf_frames.h"
#include "symbolize/elfutils_lib.h"
#include "symbolize/symtab.h"
#include "util/arena.h"
#include "util/clock.h"
#include "util/grow.h"
#include "util/hash.h"
#include "util/u64map.h"

#define MAX_LOADS 16
#define MAX_FRAMES 16
/* Remembered addresses per object; the table is cleared when it fills. */
#define ADDR_CACHE_MAX 32768

struct load_seg {
    uint64_t offset, filesz, vaddr;
};

struct ix_symobj {
    /* identity (the cache key) */
    char *path;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    /* guarded by the cache lock */
    int refs;
    uint64_t last_use;
    struct ix_symobj *next;
    /* immutable after creation */
    char build_id[129];
    struct load_seg loads[MAX_LOADS];
    int nloads;
    /* the rest is guarded by dw_mu */
    /* The parsing session (see "Keep answers, not parsers" below): open
     * while a symbolizer holds the object, closed at the last put. */
    Dwfl *dwfl;
    Dwfl_Module *mod;
    int reopen_failed;      /* the file is gone or changed: answers only */
    struct ix_fsymtab syms; /* built on the first lookup of a session */
    struct ix_dwarf_frames *dwarf;
    int indexed;
    /* (raw libdw/libelf string pointer << 1 | kind) -> owned copy; per session */
    struct ix_u64map memo;
    /* The answers, kept across sessions: their strings are owned copies. */
    struct ix_u64map addrs; /* vaddr -> frames start << 16 | count */
    struct ix_sym_line *frames;
    size_t nframes, framecap;
    struct ix_arena_block *strs; /* function and file names of the answers */
    struct ix_u64map interned;   /* FNV of a string -> its copy in strs */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
/* elfutils is not built thread-safe: every libdw/libdwfl call, on any
 * object, runs under this one lock (taken after cache_mu when both are
 * held). Lookups are short and cached, so the serialization is cheap. */
static pthread_mutex_t dw_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ix_symobj *cache_head;
static int trim_pending; /* under cache_mu: a session was closed since the last trim */

static size_t cache_count;
static uint64_t cache_clock;

/* ---- giving the memory back when idle ----
 *
 * Between requests an object holds the answers it gave (its parsing session
 * is closed at the last put, "keep answers, not parsers" below; with
 * INTROSPECT_SYMBOL_KEEP_PARSED the session too: libdw's inflated debug
 * sections, line tables, our scope trees and symbol table, tens of MB for
 * libc's debug file). A server asked for a profile now and then should not
 * carry even the answers for good. A module thread ("introspect-sym"),
 * started with the first parsed object,
 * flushes the unused objects once nothing was looked up for
 * INTROSPECT_SYMBOL_IDLE_S seconds (default 30; 0 keeps them for good),
 * hands the freed pages back to the kernel (ix_release_free_memory: the
 * module's jemalloc arena, or malloc_trim in a small host), and exits; the
 * next profile parses again (a cold profile, see bench/README.md "Cost"). */
#define IDLE_DEFAULT_S 30
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
/* All under cache_mu. */
static int reaper_allowed;  /* between the module's start and stop */
static int reaper_exists;   /* created and not yet joined */
static int reaper_running;  /* its loop has not ended */
static int reaper_quit;     /* stop asked it to end */
static pthread_t reaper;
static int64_t idle_s = IDLE_DEFAULT_S;
static long long last_touch; /* ix_mono_ns() of the last get/put */
static atomic_ulong g_parses;  /* objects whose symbols and DWARF were read */

static void flush_locked(void);

static void *idle_main(void *arg)
{
    (void)arg;
    int trim = 0;
    pthread_mutex_lock(&cache_mu);
    while (!reaper_quit) {
        long long left = idle_s * 1000000000LL - (ix_mono_ns() - last_touch);
        if (left <= 0) {
            flush_locked();
            trim = 1;
            if (cache_count == 0)
                break; /* objects still referenced: look again after a period */
            last_touch = ix_mono_ns();
            continue;
        }
        /* The condition variable waits on CLOCK_REALTIME: a wall-clock step
         * only moves this check, which re-reads the monotonic clock. */
        long long until_ns = ix_real_ns() + left + 100000000LL;
        struct timespec until = {(time_t)(until_ns / 1000000000LL), (long)(until_ns % 1000000000LL)};
        pthread_cond_timedwait(&idle_cv, &cache_mu, &until);
    }
    reaper_running = 0;
    pthread_mutex_unlock(&cache_mu);
    if (trim)
        ix_release_free_memory();
    return NULL;
}

/* Under cache_mu: note a use, and start the reaper when objects are cached. */
static void touch_locked(void)
{
    last_touch = ix_mono_ns();
    if (!reaper_allowed || idle_s == 0 || reaper_running || cache_count == 0)
        return;
    if (reaper_exists) { /* ended by itself: collect it (it holds no lock now) */
        pthread_join(reaper, NULL);
        reaper_exists = 0;
    }
    reaper_quit = 0;
    if (ix_module_thread_create(&reaper, 0, idle_main, NULL, "introspect-sym") == 0)
        reaper_exists = reaper_running = 1;
}

int ix_symobj_reaper_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)cfg, (void)why, (void)whylen;
    const char *e = getenv("INTROSPECT_SYMBOL_IDLE_S");
    pthread_mutex_lock(&cache_mu);
    idle_s = e && *e ? strtoll(e, NULL, 10) : IDLE_DEFAULT_S;
    if (idle_s < 0)
        idle_s = 0;
    reaper_allowed = 1;
    touch_locked();
    pthread_mutex_unlock(&cache_mu);
    return 0;
}

void ix_symobj_reaper_stop(void)
{
    pthread_mutex_lock(&cache_mu);
    reaper_allowed = 0;
    reaper_quit = 1;
    pthread_cond_broadcast(&idle_cv);
    int join = reaper_exists;
    reaper_exists = 0;
    pthread_mutex_unlock(&cache_mu);
    if (join)
        pthread_join(reaper, NULL);
}

/* fork copies the memory, not the threads. A thread of the parent that was
 * inside a critical section (parsing with elfutils, closing a session with
 * dwfl_end, creating or destroying an object) left its data half changed,
 * and a child that runs its own instance (a process tree's member) would go
 * on from there: dwfl_end in the child freed again what the parent had
 * already freed (PostgreSQL backends aborted with "double free or
 * corruption", test_server_postgres; test_symbols forks during a
 * symbolization churn). So the child looks at both locks as the fork left
 * them: one held means the cache cannot be trusted, and the child starts an
 * empty one (the old objects are the parent's pages, left and never freed,
 * as the module does with whatever the gone threads owned). Neither held:
 * every object is whole, and the references of the gone threads are
 * dropped (refs = 0), so the child's own last put closes the session such
 * a thread had open. No elfutils call and no allocation happens here. */
void ix_symobj_forked(void)
{
    int whole = pthread_mutex_trylock(&cache_mu) == 0;
    whole = pthread_mutex_trylock(&dw_mu) == 0 && whole;
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cv = PTHREAD_COND_INITIALIZER;
    cache_mu = fresh;
    dw_mu = fresh;
    idle_cv = fresh_cv;
    reaper_exists = reaper_running = 0; /* it did not survive: the next use starts one */
    if (whole) {
        for (struct ix_symobj *o = cache_head; o; o = o->next)
            o->refs = 0;
    } else {
        cache_head = NULL;
        cache_count = 0;
        trim_pending = 0;
    }
}

/* elfutils' debuginfo_path syntax; NULL = its default "-:.debug:/usr/lib/debug".
 * INTROSPECT_DEBUGINFO_PATH overrides it (tests, unusual distributions). */
static char *debuginfo_path;
/* INTROSPECT_SYMBOL_KEEP_PARSED (see "keep answers, not parsers"). */
static int keep_parsed;
static pthread_once_t path_once = PTHREAD_ONCE_INIT;

static void read_debuginfo_path(void)
{
    const char *e = getenv("INTROSPECT_DEBUGINFO_PATH");
    if (e && *e)
        debuginfo_path = strdup(e);
    e = getenv("INTROSPECT_SYMBOL_KEEP_PARSED");
    keep_parsed = e && *e && strcmp(e, "0") != 0;
}

/* Look for .gnu_debuglink's file along the debuginfo path, as elfutils does:
 * "" is the object's own directory, a relative entry is below it, an
 * absolute one is prefixed to it. */
static int debuglink_open(const char *file_name, const char *link, char **found)
{
    const char *slash = strrchr(file_name, '/');
    int dlen = slash ? (int)(slash - file_name) : 0;
    const char *path = debuginfo_path ? debuginfo_path : "-:.debug:/usr/lib/debug";
    if (*path == '-' || *path == '+')
        path++;
    for (const char *e = path;; e++) {
        size_t elen = strcspn(e, ":");
        char cand[PATH_MAX];
        int n;
        if (elen == 0)
            n = snprintf(cand, sizeof cand, "%.*s/%s", dlen, file_name, link);
        else if (*e == '/')
            n = snprintf(cand, sizeof cand, "%.*s%.*s/%s", (int)elen, e, dlen, file_name, link);
        else
            n = snprintf(cand, sizeof cand, "%.*s/%.*s/%s", dlen, file_name, (int)elen, e, link);
        if (n > 0 && (size_t)n < sizeof cand && strcmp(cand, file_name) != 0) {
            int fd = open(cand, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                *found = strdup(cand);
                return fd;
            }
        }
        e += elen;
        if (!*e)
            return -1;
    }
}

/* dwfl_standard_find_debuginfo also asks debuginfod servers when local
 * lookups fail: a profiled production process would open network
 * connections wherever DEBUGINFOD_URLS is set (Debian sets it for login
 * shells), and each module kept a curl handle with a socketpair. We look
 * locally only: by build ID, then by .gnu_debuglink.
 *
 * elfutils opens the build-ID file (/usr/lib/debug/.build-id/xx/....debug)
 * without O_CLOEXEC: every program the host executes would inherit it. It is
 * marked close-on-exec as soon as elfutils hands it over (a fork+exec on
 * another thread in between would still see it: elfutils offers no flag). */
static int local_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                Dwarf_Addr base, const char *file_name,
                                const char *debuglink_file, GElf_Word debuglink_crc,
                                char **debuginfo_file_name)
{
    int fd = ix_dw.dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
                                          debuglink_file, debuglink_crc, debuginfo_file_name);
    if (fd >= 0)
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
    if (fd >= 0 || !file_name || !debuglink_file || !*debuglink_file)
        return fd;
    return debuglink_open(file_name, debuglink_file, debuginfo_file_name);
}

/* elfutils is loaded at run time (symbolize/elfutils_lib.h): its own
 * callbacks are reached through these two trampolines. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
    return ix_dw.dwfl_build_id_find_elf(mod, userdata, modname, base, file_name, elfp);
}

static int section_address(Dwfl_Module *mod, void **userdata, const char *modname,
                           Dwarf_Addr base, const char *secname, GElf_Word shndx,
                           const GElf_Shdr *shdr, Dwarf_Addr *addr)
{
    return ix_dw.dwfl_offline_section_address(mod, userdata, modname, base, secname, shndx, shdr,
                                              addr);
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = local_find_debuginfo,
    .section_address = section_address,
    .debuginfo_path = &debuginfo_path,
};

/* Under dw_mu: end the parsing session. The answers stay. */
static void session_close(struct ix_symobj *o)
{
    if (o->dwfl)
        ix_dw.dwfl_end(o->dwfl);
    o->dwfl = NULL;
    o->mod = NULL;
    ix_dwarf_frames_free(o->dwarf);
    o->dwarf = NULL;
    ix_fsymtab_free(&o->syms);
    o->indexed = 0;
    o->reopen_failed = 0;
    ix_u64map_free(&o->memo);
}

static void obj_destroy(struct ix_symobj *o)
{
    pthread_mutex_lock(&dw_mu);
    session_close(o);
    pthread_mutex_unlock(&dw_mu);
    ix_u64map_free(&o->addrs);
    free(o->frames);
    ix_arena_free(&o->strs);
    ix_u64map_free(&o->interned);
    free(o->path);
    free(o);
}

static void read_build_id(struct ix_symobj *o)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = ix_dw.dwfl_module_build_id(o->mod, &bits, &vaddr);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n && i < 64; i++) {
        o->build_id[2 * i] = hex[bits[i] >> 4];
        o->build_id[2 * i + 1] = hex[bits[i] & 15];
        o->build_id[2 * i + 2] = '\0';
    }
}

static int read_loads(struct ix_symobj *o)
{
    GElf_Addr bias;
    Elf *elf = ix_dw.dwfl_module_getelf(o->mod, &bias);
    size_t nph;
    if (!elf || ix_dw.elf_getphdrnum(elf, &nph))
        return INTROSPECT_EINVAL; /* not an ELF file with program headers */
    for (size_t i = 0; i < nph && o->nloads < MAX_LOADS; i++) {
        GElf_Phdr ph;
        if (ix_dw.gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
            o->loads[o->nloads++] = (struct load_seg){ph.p_offset, ph.p_filesz, ph.p_vaddr};
    }
    return o->nloads ? 0 : INTROSPECT_EINVAL;
}

/* The libdw session of a fresh object: fd (consumed) reported as the only
 * module. ET_DYN at base 0 with add_p_vaddr makes module addresses the
 * file's own virtual addresses (ET_EXEC ignores the base anyway). */
static int open_session(struct ix_symobj *o, const char *path, int fd)
{
    if (ix_elfutils_load()) { /* no elfutils: this object stays unsymbolized */
        close(fd);
        return INTROSPECT_ELIBRARY;
    }
    o->dwfl = ix_dw.dwfl_begin(&dwfl_callbacks);
    if (!o->dwfl) {
        close(fd);
        return INTROSPECT_ENOMEM;
    }
    ix_dw.dwfl_report_begin(o->dwfl);
    o->mod = ix_dw.dwfl_report_elf(o->dwfl, path, path, fd, 0, true);
    ix_dw.dwfl_report_end(o->dwfl, NULL, NULL);
    if (!o->mod) {
        close(fd);
        return INTROSPECT_EINVAL;
    }
    return 0;
}

static struct ix_symobj *obj_create(const char *path, int fd, const struct stat *st)
{
    struct ix_symobj *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path))) {
        free(o);
        close(fd);
        return NULL;
    }
    o->dev = st->st_dev;
    o->ino = st->st_ino;
    o->size = (uint64_t)st->st_size;
    o->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    pthread_mutex_lock(&dw_mu);
    int rc = open_session(o, path, fd);
    if (rc == 0 && (rc = read_loads(o)) == 0)
        read_build_id(o);
    pthread_mutex_unlock(&dw_mu);
    if (rc) {
        obj_destroy(o);
        return NULL;
    }
    return o;
}

static int same_identity(const struct ix_symobj *o, const char *path, const struct stat *st)
{
    return o->dev == st->st_dev && o->ino == st->st_ino &&
           o->size == (uint64_t)st->st_size &&
           o->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec &&
           strcmp(o->path, path) == 0;
}

/* Open path and check it is the mapped file (dev/ino from /proc/self/maps). */
static int open_checked(const char *path, uint64_t dev, uint64_t ino, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) || !S_ISREG(st->st_mode) ||
        ((dev || ino) && (st->st_dev != dev || st->st_ino != ino))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Free least recently used unreferenced objects beyond the bound. */
static void evict_locked(void)
{
    while (cache_count > IX_SYMOBJ_MAX) {
        struct ix_symobj **victim = NULL;
        for (struct ix_symobj **pp = &cache_head; *pp; pp = &(*pp)->next)
            if ((*pp)->refs == 0 && (!victim || (*pp)->last_use < (*victim)->last_use))
                victim = pp;
        if (!victim)
            return; /* everything is in use: the bound is soft */
        struct ix_symobj *o = *victim;
        *victim = o->next;
        cache_count--;
        obj_destroy(o);
    }
}

struct ix_symobj *ix_symobj_get(const char *path, const char *alt_path, uint64_t dev,
                                uint64_t ino)
{
    pthread_once(&path_once, read_debuginfo_path);
    struct stat st;
    const char *used = path;
    int fd = open_checked(path, dev, ino, &st);
    if (fd < 0 && alt_path) {
        used = alt_path;
        fd = open_checked(alt_path, dev, ino, &st);
    }
    if (fd < 0)
        return NULL;
    pthread_mutex_lock(&cache_mu);
    struct ix_symobj *o;
    for (o = cache_head; o; o = o->next)
        if (same_identity(o, used, &st))
            break;
    if (o) {
        close(fd);
    } else if ((o = obj_create(used, fd, &st))) {
        o->next = cache_head;
        cache_head = o;
        cache_count++;
    }
    if (o) {
        o->refs++;
        o->last_use = ++cache_clock;
        evict_locked();
    }
    touch_locked();
    pthread_mutex_unlock(&cache_mu);
    return o;
}

/* ---- keep answers, not parsers ----
 *
 * What a parsed object costs is libdw's, not ours: the inflated .debug_*
 * sections of a compressed debug file (10 MB for libc's), the decoded line
 * table of every compile unit looked into (17 MB for 1,000 random stacks
 * over libc and a large binary), its CU and abbreviation tables, plus our
 * scope trees (8 MB) and symbol table. The answers a profile needed are a
 * small part of that: the frames of each address, with their names. So the
 * parsing session lives only while a symbolizer holds the object (one
 * request); at the last put it is closed and only the answers stay, with
 * their strings copied into the object's own arena (interned, so a name is
 * stored once). The next request whose addresses were all seen before is
 * served from the answers without elfutils; one that brings a new address
 * reopens the file and parses again (the cost of a cold profile for that
 * object, bench/README.md "Cost"). INTROSPECT_SYMBOL_KEEP_PARSED=1 keeps
 * the sessions instead (faster when every profile brings new addresses,
 * at the memory above), until the idle flush. ix_symobj_trim hands the
 * freed pages back to the kernel once per request. */

void ix_symobj_put(struct ix_symobj *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&cache_mu);
    if (--o->refs == 0 && !keep_parsed) {
        pthread_mutex_lock(&dw_mu);
        if (o->dwfl)
            trim_pending = 1;
        session_close(o);
        pthread_mutex_unlock(&dw_mu);
    }
    evict_locked();
    touch_locked();
    pthread_mutex_unlock(&cache_mu);
}

void ix_symobj_trim(void)
{
    pthread_mutex_lock(&cache_mu);
    int trim = trim_pending;
    trim_pending = 0;
    pthread_mutex_unlock(&cache_mu);
    if (trim)
        ix_release_module_memory();
}

static void flush_locked(void)
{
    for (struct ix_symobj **pp = &cache_head; *pp;) {
        struct ix_symobj *o = *pp;
        if (o->refs == 0) {
            *pp = o->next;
            cache_count--;
            obj_destroy(o);
        } else {
            pp = &o->next;
        }
    }
}

void ix_symobj_flush(void)
{
    pthread_mutex_lock(&cache_mu);
    flush_locked();
    pthread_mutex_unlock(&cache_mu);
}

unsigned long ix_symobj_parses(void) { return atomic_load(&g_parses); }

size_t ix_symobj_cached(void)
{
    pthread_mutex_lock(&cache_mu);
    size_t n = cache_count;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

const char *ix_symobj_build_id(const struct ix_symobj *o) { return o->build_id; }

int ix_symobj_vaddr(const struct ix_symobj *o, uint64_t file_offset, uint64_t *vaddr)
{
    for (int i = 0; i < o->nloads; i++) {
        const struct load_seg *l = &o->loads[i];
        if (file_offset >= l->offset && file_offset < l->offset + l->filesz) {
            *vaddr = file_offset - l->offset + l->vaddr;
            return 0;
        }
    }
    return INTROSPECT_EADDR;
}

/* ---- display names ---- */

/* C++ names are demangled with the host's own __cxa_demangle when the
 * process has libstdc++ loaded (a C program without it keeps raw names,
 * which pprof demangles itself). Looked up until found: a C++ library may
 * be dlopened later. A NOLOAD handle is kept for good, so libstdc++ stays
 * mapped while we may call into it. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
static demangle_fn cxa_demangle;

static char *demangle(const char *raw, size_t len)
{
    if (len < 3 || raw[0] != '_' || raw[1] != 'Z')
        return NULL;
    demangle_fn fn = __atomic_load_n(&cxa_demangle, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        if (!fn) { /* loaded RTLD_LOCAL by a plugin: NOLOAD never loads it */
            void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
            fn = h ? (demangle_fn)dlsym(h, "__cxa_demangle") : NULL;
        }
        if (!fn)
            return NULL;
        __atomic_store_n(&cxa_demangle, fn, __ATOMIC_RELEASE);
    }
    char *name = strndup(raw, len);
    if (!name)
        return NULL;
    int status = -1;
    char *out = fn(name, NULL, NULL, &status);
    free(name);
    if (status != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The copy of s[0..len) in the object's arena, stored once per content. */
static const char *intern(struct ix_symobj *o, const char *str, size_t len)
{
    uint64_t h = ix_hash_bytes(IX_HASH_INIT, str, len);
    int added;
    uint64_t *v = ix_u64map_put(&o->interned, h, &added);
    if (v && !added && *v) { /* 0: a copy failed earlier */
        const char *old = (const char *)(uintptr_t)*v;
        if (strncmp(old, str, len) == 0 && old[len] == '\0')
            return old;
    }
    char *copy = ix_arena_strndup(&o->strs, str, len);
    if (!copy)
        return NULL;
    if (v && added)
        *v = (uintptr_t)copy; /* a hash collision keeps the first string's slot */
    return copy;
}

enum own_kind { OWN_FILE, OWN_FUNCTION };

/* The owned copy of a libdw/libelf string, as a profile shows it. Function
 * names: dynamic symbols come back as "name@@VERSION" (libc's
 * "__libc_start_main@@GLIBC_2.34"), C++ ones mangled. The copy is memoized
 * per raw pointer for the session (libdw's strings are stable while it is
 * open), so each string costs one hash lookup after the first. */
static const char *own(struct ix_symobj *o, const char *raw, enum own_kind kind)
{
    if (!raw)
        return NULL;
    int added;
    uint64_t *v = ix_u64map_put(&o->memo, (uint64_t)(uintptr_t)raw << 1 | kind, &added);
    if (v && !added && *v) /* 0: out of memory earlier */
        return (const char *)(uintptr_t)*v;
    const char *shown = NULL;
    if (kind == OWN_FUNCTION) {
        const char *at = raw[0] ? strchr(raw + 1, '@') : NULL;
        size_t len = at ? (size_t)(at - raw) : strlen(raw);
        char *demangled = demangle(raw, len);
        shown = demangled ? intern(o, demangled, strlen(demangled)) : intern(o, raw, len);
        free(demangled);
    } else {
        shown = intern(o, raw, strlen(raw));
    }
    if (!shown)
        return kind == OWN_FUNCTION ? "??" : NULL; /* out of memory: never a libdw pointer */
    if (v)
        *v = (uintptr_t)shown;
    return shown;
}

/* Under dw_mu: reopen the file of an object whose session was closed,
 * checking it is still the same file. */
static int session_reopen(struct ix_symobj *o)
{
    if (o->reopen_failed)
        return INTROSPECT_ESYS;
    struct stat st;
    int fd = open_checked(o->path, o->dev, o->ino, &st);
    if (fd >= 0 && !same_identity(o, o->path, &st)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 || open_session(o, o->path, fd)) {
        if (o->dwfl)
            ix_dw.dwfl_end(o->dwfl);
        o->dwfl = NULL;
        o->mod = NULL;
        o->reopen_failed = 1;
        return INTROSPECT_ESYS;
    }
    return 0;
}

static int lookup_uncached(struct ix_symobj *o, uint64_t vaddr, struct ix_sym_line *lines,
                           int max)
{
    if (!o->dwfl && session_reopen(o))
        return 0;
    if (!o->indexed) { /* reading symbols and DWARF waits for a lookup */
        o->indexed = 1;
        atomic_fetch_add_explicit(&g_parses, 1, memory_order_relaxed);
        ix_fsymtab_build(o->mod, &o->syms);
        o->dwarf = ix_dwarf_frames_new(o->mod);
    }
    const char *symname = ix_fsymtab_find(&o->syms, vaddr);
    int n = o->dwarf ? ix_dwarf_frames_lookup(o->dwarf, vaddr, symname, lines, max) : 0;
    if (n == 0 && symname && max > 0)
        lines[n++] = (struct ix_sym_line){symname, NULL, 0};
    for (int i = 0; i < n; i++) {
        lines[i].function = own(o, lines[i].function, OWN_FUNCTION);
        lines[i].file = own(o, lines[i].file, OWN_FILE);
    }
    return n;
}

/* ---- per-object address cache (cleared when full) ---- */

static void cache_store(struct ix_symobj *o, uint64_t vaddr, const struct ix_sym_line *lines,
                        int n)
{
    if (o->addrs.n >= ADDR_CACHE_MAX) {
        ix_u64map_free(&o->addrs);
        o->nframes = 0;
    }
    if (ix_grow(&o->frames, &o->framecap, o->nframes + (size_t)n, sizeof *o->frames))
        return;
    int added;
    uint64_t *v = ix_u64map_put(&o->addrs, vaddr, &added);
    if (!v)
        return;
    *v = (uint64_t)o->nframes << 16 | (uint64_t)n;
    if (n > 0) /* frames may still be NULL when nothing resolved yet */
        memcpy(o->frames + o->nframes, lines, (size_t)n * sizeof *lines);
    o->nframes += (size_t)n;
}

/* Copy n frames into max slots; when they do not fit, keep the innermost
 * ones and the outermost (the real function), dropping middle inlines. */
static int copy_frames(struct ix_sym_line *dst, const struct ix_sym_line *src, int n, int max)
{
    if (n <= max) {
        if (n > 0) /* src may be NULL for an address with no frames */
            memcpy(dst, src, (size_t)n * sizeof *src);
        return n;
    }
    memcpy(dst, src, (size_t)(max - 1) * sizeof *src);
    dst[max - 1] = src[n - 1];
    return max;
}

int ix_symobj_lookup(struct ix_symobj *o, uint64_t vaddr, struct ix_sym_line *lines, int max)
{
    if (max <= 0)
        return 0;
    pthread_mutex_lock(&dw_mu);
    int n;
    const uint64_t *hit = ix_u64map_get(&o->addrs, vaddr);
    if (hit) {
        n = copy_frames(lines, o->frames + (*hit >> 16), (int)(*hit & 0xffff), max);
    } else {
        struct ix_sym_line tmp[MAX_FRAMES];
        n = lookup_uncached(o, vaddr, tmp, MAX_FRAMES);
        cache_store(o, vaddr, tmp, n);
        n = copy_frames(lines, tmp, n, max);
    }
    pthread_mutex_unlock(&dw_mu);
    return n;
}
