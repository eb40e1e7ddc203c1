/* The module's own symbolization work as metrics: how often an object's
 * symbols and DWARF were read (a cold profile's cost; in a process tree the
 * root reads them for its children, docs/process-tree.md) and how many
 * parsed objects are cached now. */
#include "collectors.h"
#include "symbolize/objects.h"

void ix_collect_symbols(struct ix_mset *set)
{
    ix_mset_value0(set,
                   ix_mset_family(set, "introspect_symbol_objects_parsed_total",
                                  "Times an object file's symbols and DWARF were read to name "
                                  "frames.", IX_COUNTER),
                   (double)ix_symobj_parses());
    ix_mset_value0(set,
                   ix_mset_family(set, "introspect_symbol_objects_cached",
                                  "Object files in the symbol cache.", IX_GAUGE),
                   (double)ix_symobj_cached());
}
