/* Growable arrays: make room for `need` elements by doubling. */
#ifndef IX_GROW_H
#define IX_GROW_H

#include <stdlib.h>
#include <string.h>

#include "introspect.h"

/* parray points to the array pointer (any element type); *cap is its
 * capacity in elements, first the capacity of a new array. Returns 0, or
 * INTROSPECT_ENOMEM (array unchanged). */
static inline int ix_grow_from(void *parray, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : first;
    while (nc < need)
        nc *= 2;
    void *old, *p;
    memcpy(&old, parray, sizeof old);
    if (!(p = realloc(old, nc * elem)))
        return INTROSPECT_ENOMEM;
    memcpy(parray, &p, sizeof p);
    *cap = nc;
    return 0;
}

static inline int ix_grow(void *parray, size_t *cap, size_t need, size_t elem)
{
    return ix_grow_from(parray, cap, need, elem, 64);
}

#endif
