/* Baseline symbolizer: executable mappings from /proc/self/maps and names
 * from dladdr (dynamic symbols only). */
#include "sampling/symbols.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

struct ix_symbolizer {
    struct ix_mapping_info *maps;
    size_t nmaps, cap;
    struct ix_arena_block *arena;
};

static int read_maps(struct ix_symbolizer *s)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off;
        char perms[8], path[900] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %899[^\n]", &lo, &hi, perms, &off, path) < 4)
            continue;
        if (perms[2] != 'x')
            continue;
        if (s->nmaps == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            struct ix_mapping_info *m = realloc(s->maps, cap * sizeof *m);
            if (!m)
                break;
            s->maps = m;
            s->cap = cap;
        }
        struct ix_mapping_info *m = &s->maps[s->nmaps++];
        m->start = lo;
        m->limit = hi;
        m->offset = off;
        m->path = ix_arena_strdup(&s->arena, path);
        m->build_id = "";
        if (!m->path)
            s->nmaps--;
    }
    fclose(f);
    return 0;
}

struct ix_symbolizer *ix_symbolizer_new(void)
{
    struct ix_symbolizer *s = calloc(1, sizeof *s);
    if (s)
        read_maps(s);
    return s;
}

void ix_symbolizer_free(struct ix_symbolizer *s)
{
    if (!s)
        return;
    free(s->maps);
    ix_arena_free(&s->arena);
    free(s);
}

int ix_symbolize(struct ix_symbolizer *s, uintptr_t addr, struct ix_sym_line *lines, int max)
{
    Dl_info info;
    if (max < 1 || !dladdr((void *)addr, &info) || !info.dli_sname)
        return 0;
    lines[0].function = ix_arena_strdup(&s->arena, info.dli_sname);
    lines[0].file = NULL;
    lines[0].line = 0;
    return lines[0].function ? 1 : 0;
}

int ix_symbolizer_find_mapping(struct ix_symbolizer *s, uintptr_t addr)
{
    for (size_t i = 0; i < s->nmaps; i++)
        if (addr >= s->maps[i].start && addr < s->maps[i].limit)
            return (int)i;
    return -1;
}

size_t ix_symbolizer_nmappings(const struct ix_symbolizer *s) { return s->nmaps; }

const struct ix_mapping_info *ix_symbolizer_mapping(const struct ix_symbolizer *s, size_t i)
{
    return i < s->nmaps ? &s->maps[i] : NULL;
}
