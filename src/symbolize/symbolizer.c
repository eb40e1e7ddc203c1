/* The per-request symbolizer: a snapshot of the executable mappings of
 * /proc/self/maps (main binary first, as pprof expects), each tied to a
 * cached parsed object file (symbolize/objects.h) that turns addresses into frames.
 *
 * A runtime address becomes a file address through the mapping:
 * file offset = addr - start + offset, then the object's PT_LOAD headers
 * give the ELF virtual address, which is right for PIE executables, shared
 * objects and non-PIE executables alike, without reading process memory.
 * [vdso] has no file: its names come from dladdr (the vDSO is never
 * unmapped). Anonymous and JIT mappings stay address-only. */
#include "symbolize/symbolizer.h"
#include "introspect.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "symbolize/objects.h"
#include "util/arena.h"
#include "util/grow.h"

enum map_kind { MAP_FILE, MAP_VDSO, MAP_ANON };

struct map {
    struct ix_mapping_info info;
    enum map_kind kind;
    struct ix_symobj *obj; /* MAP_FILE that could be opened, else NULL */
};

struct ix_symbolizer {
    struct map *maps;
    size_t nmaps, cap;
    struct ix_arena_block *arena;
    int pid;       /* 0: this process */
    char proc[24]; /* "/proc/self" or "/proc/PID" */
};

static enum map_kind kind_of(const char *path)
{
    if (strcmp(path, "[vdso]") == 0)
        return MAP_VDSO;
    return path[0] == '/' ? MAP_FILE : MAP_ANON;
}

static int add_map(struct ix_symbolizer *s, const struct map *m)
{
    if (ix_grow(&s->maps, &s->cap, s->nmaps + 1, sizeof *s->maps))
        return INTROSPECT_ENOMEM;
    s->maps[s->nmaps++] = *m;
    return 0;
}

/* Attach the parsed object. A path ending in " (deleted)" names a file
 * that was replaced or removed: /proc/self/map_files still opens the
 * mapped one. The device and inode check rejects a different file now
 * living at the same path. */
static void attach_object(const struct ix_symbolizer *s, struct map *m, const char *path,
                          unsigned dmaj, unsigned dmin, unsigned long ino)
{
    char alt[96];
    snprintf(alt, sizeof alt, "%s/map_files/%lx-%lx", s->proc, (unsigned long)m->info.start,
             (unsigned long)m->info.limit);
    char clean[PATH_MAX];
    snprintf(clean, sizeof clean, "%s", path);
    size_t n = strlen(clean);
    static const char deleted[] = " (deleted)";
    if (n > sizeof deleted - 1 && strcmp(clean + n - (sizeof deleted - 1), deleted) == 0)
        clean[n - (sizeof deleted - 1)] = '\0';
    m->obj = ix_symobj_get(clean, alt, makedev(dmaj, dmin), ino);
    if (m->obj)
        m->info.build_id = ix_symobj_build_id(m->obj);
}

static int parse_line(struct ix_symbolizer *s, const char *line)
{
    unsigned long lo, hi, off, ino;
    unsigned dmaj, dmin;
    char perms[8];
    int pathpos = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perms, &off, &dmaj, &dmin, &ino,
               &pathpos) < 7 || perms[2] != 'x')
        return 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", line + pathpos);
    path[strcspn(path, "\n")] = '\0';
    struct map m = {.info = {lo, hi, off, NULL, ""}, .kind = kind_of(path)};
    m.info.path = ix_arena_strdup(&s->arena, path);
    if (!m.info.path)
        return INTROSPECT_ENOMEM;
    if (m.kind == MAP_FILE)
        attach_object(s, &m, path, dmaj, dmin, ino);
    if (add_map(s, &m)) {
        ix_symobj_put(m.obj);
        return INTROSPECT_ENOMEM;
    }
    return 0;
}

/* pprof treats mapping[0] as the main binary: move its mappings first. */
static void main_binary_first(struct ix_symbolizer *s)
{
    char exe[PATH_MAX], link[40];
    snprintf(link, sizeof link, "%s/exe", s->proc);
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    size_t front = 0;
    for (size_t i = 0; i < s->nmaps; i++) {
        if (strcmp(s->maps[i].info.path, exe) != 0)
            continue;
        struct map t = s->maps[i];
        memmove(&s->maps[front + 1], &s->maps[front], (i - front) * sizeof t);
        s->maps[front++] = t;
    }
}

static int read_maps(struct ix_symbolizer *s)
{
    char path[40];
    snprintf(path, sizeof path, "%s/maps", s->proc);
    FILE *f = fopen(path, "re");
    if (!f)
        return INTROSPECT_ESYS;
    char line[PATH_MAX + 128];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f))
        rc = parse_line(s, line);
    fclose(f);
    main_binary_first(s);
    return rc;
}

struct ix_symbolizer *ix_symbolizer_new(void) { return ix_symbolizer_new_pid(0); }

struct ix_symbolizer *ix_symbolizer_new_pid(int pid)
{
    struct ix_symbolizer *s = calloc(1, sizeof *s);
    if (s) {
        s->pid = pid == (int)getpid() ? 0 : pid;
        if (s->pid)
            snprintf(s->proc, sizeof s->proc, "/proc/%d", s->pid);
        else
            snprintf(s->proc, sizeof s->proc, "/proc/self");
    }
    if (s && read_maps(s)) {
        ix_symbolizer_free(s);
        return NULL;
    }
    return s;
}

void ix_symbolizer_free(struct ix_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nmaps; i++)
        ix_symobj_put(s->maps[i].obj);
    free(s->maps);
    ix_arena_free(&s->arena);
    free(s);
    ix_symobj_trim();
}

static int symbolize_vdso(struct ix_symbolizer *s, uintptr_t addr, struct ix_sym_line *lines)
{
    Dl_info info;
    if (!dladdr((void *)addr, &info) || !info.dli_sname)
        return 0;
    const char *name = ix_arena_strdup(&s->arena, info.dli_sname);
    if (!name)
        return 0;
    lines[0] = (struct ix_sym_line){name, NULL, 0};
    return 1;
}

int ix_symbolize(struct ix_symbolizer *s, uintptr_t addr, struct ix_sym_line *lines, int max)
{
    int i = ix_symbolizer_find_mapping(s, addr);
    if (i < 0 || max < 1)
        return 0;
    struct map *m = &s->maps[i];
    if (m->kind == MAP_VDSO) /* ours only: another process's vDSO names itself */
        return s->pid ? 0 : symbolize_vdso(s, addr, lines);
    uint64_t vaddr;
    if (!m->obj || ix_symobj_vaddr(m->obj, addr - m->info.start + m->info.offset, &vaddr))
        return 0;
    return ix_symobj_lookup(m->obj, vaddr, lines, max);
}

int ix_symbolizer_find_mapping(struct ix_symbolizer *s, uintptr_t addr)
{
    for (size_t i = 0; i < s->nmaps; i++)
        if (addr >= s->maps[i].info.start && addr < s->maps[i].info.limit)
            return (int)i;
    return -1;
}

size_t ix_symbolizer_nmappings(const struct ix_symbolizer *s) { return s->nmaps; }

const struct ix_mapping_info *ix_symbolizer_mapping(const struct ix_symbolizer *s, size_t i)
{
    return i < s->nmaps ? &s->maps[i].info : NULL;
}
