/* A module's function symbols sorted by address, for O(log n) lookups.
 * libdwfl's own dwfl_module_addrinfo scans the whole symbol table on every
 * call, which made a cold 10k-location profile take seconds against libc. */
#ifndef IX_SYMTAB_H
#define IX_SYMTAB_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

struct ix_fsym {
    uint64_t addr, size; /* module addresses */
    const char *name;    /* libdw's string, stable while the session lives */
    int rank;            /* binding preference when aliases share an address */
};

struct ix_fsymtab {
    struct ix_fsym *syms;
    size_t n;
};

/* Collect the function symbols of mod (.symtab from the file or its debug
 * file, else .dynsym). Returns 0, or INTROSPECT_ENOMEM on OOM (t then holds what fit). */
int ix_fsymtab_build(Dwfl_Module *mod, struct ix_fsymtab *t);
/* Name of the function containing addr, or NULL. */
const char *ix_fsymtab_find(const struct ix_fsymtab *t, uint64_t addr);
void ix_fsymtab_free(struct ix_fsymtab *t);

#endif
