#include "symbolize/symtab.h"
#include "introspect.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize/elfutils_lib.h"
#include "util/bsearch.h"

/* Among aliases at one address, show the global name (memcpy rather than
 * a local __memmove_avx_unaligned_erms alias), then the sized one. */
static int rank_of(const GElf_Sym *s)
{
    int bind = GELF_ST_BIND(s->st_info);
    return (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) + (s->st_size ? 1 : 0);
}

static int is_function(const GElf_Sym *s)
{
    int type = GELF_ST_TYPE(s->st_info);
    return s->st_shndx != SHN_UNDEF &&
           (type == STT_FUNC || type == STT_GNU_IFUNC || (type == STT_NOTYPE && s->st_size));
}

static int by_addr_then_rank(const void *a, const void *b)
{
    const struct ix_fsym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return y->rank - x->rank; /* best first */
}

int ix_fsymtab_build(Dwfl_Module *mod, struct ix_fsymtab *t)
{
    memset(t, 0, sizeof *t);
    int n = ix_dw.dwfl_module_getsymtab(mod);
    if (n <= 0)
        return 0;
    t->syms = malloc((size_t)n * sizeof *t->syms);
    if (!t->syms)
        return INTROSPECT_ENOMEM;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        const char *name = ix_dw.dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
        if (name && *name && is_function(&sym))
            t->syms[t->n++] = (struct ix_fsym){addr, sym.st_size, name, rank_of(&sym)};
    }
    qsort(t->syms, t->n, sizeof *t->syms, by_addr_then_rank);
    size_t w = 0; /* keep the best alias per address */
    for (size_t i = 0; i < t->n; i++)
        if (w == 0 || t->syms[w - 1].addr != t->syms[i].addr)
            t->syms[w++] = t->syms[i];
    t->n = w;
    return 0;
}

const char *ix_fsymtab_find(const struct ix_fsymtab *t, uint64_t addr)
{
    size_t lo = ix_upper_bound(t->syms, t->n, sizeof *t->syms, addr);
    if (lo == 0)
        return NULL;
    const struct ix_fsym *s = &t->syms[lo - 1];
    if (s->size == 0 || addr < s->addr + s->size)
        return s->name;
    /* Inside a gap (PLT, padding) or a symbol nested in a larger one. */
    for (size_t i = lo - 1; i-- > 0 && lo - i <= 4;)
        if (t->syms[i].size && addr < t->syms[i].addr + t->syms[i].size)
            return t->syms[i].name;
    return NULL;
}

void ix_fsymtab_free(struct ix_fsymtab *t)
{
    free(t->syms);
    memset(t, 0, sizeof *t);
}
