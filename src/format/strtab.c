#include "format/strtab.h"
#include "introspect.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s) { return ix_hash_str(IX_HASH_INIT, s); }

void ix_strtab_init(struct ix_strtab *t)
{
    memset(t, 0, sizeof *t);
    ix_strtab_id(t, "");
}

void ix_strtab_free(struct ix_strtab *t)
{
    free(t->strs);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int rehash(struct ix_strtab *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 256;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return INTROSPECT_ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = hash(t->strs[i]) & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
    return 0;
}

static int64_t lookup(struct ix_strtab *t, const char *s);

int64_t ix_strtab_id(struct ix_strtab *t, const char *s)
{
    if (!s)
        s = "";
    if (t->oom)
        return 0;
    size_t m = ((uintptr_t)s >> 3 ^ (uintptr_t)s >> 9) & 63;
    if (t->memo[m].p == s)
        return t->memo[m].id;
    int64_t id = lookup(t, s);
    if (!t->oom) {
        t->memo[m].p = s;
        t->memo[m].id = (uint32_t)id;
    }
    return id;
}

static int64_t lookup(struct ix_strtab *t, const char *s)
{
    if ((t->n + 1) * 2 > t->nslots && rehash(t)) {
        t->oom = 1;
        return 0;
    }
    size_t k = hash(s) & (t->nslots - 1);
    for (; t->slots[k]; k = (k + 1) & (t->nslots - 1))
        if (strcmp(t->strs[t->slots[k] - 1], s) == 0)
            return t->slots[k] - 1;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        const char **ns = realloc(t->strs, nc * sizeof *ns);
        if (!ns) {
            t->oom = 1;
            return 0;
        }
        t->strs = ns;
        t->cap = nc;
    }
    t->strs[t->n] = s;
    t->slots[k] = (uint32_t)(t->n + 1);
    return (int64_t)t->n++;
}
