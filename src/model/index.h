/* What /debug/pprof/ lists: the version, the endpoints that have a summary,
 * and the processes of a pre-forked tree (endpoints/index.c fills it from the
 * route table and tree/, format/index.h writes it). */
#ifndef IX_MODEL_INDEX_H
#define IX_MODEL_INDEX_H

#include <stddef.h>

struct ix_index_endpoint {
    const char *path, *description;
};

struct ix_index_process {
    int pid, ppid;
    char cmdline[512];
};

struct ix_index {
    const char *version;
    struct ix_index_endpoint *endpoints;
    size_t nendpoints;
    struct ix_index_process *processes; /* the tree's members, the root first */
    size_t nprocesses;
    const char *tree_json; /* the process tree as /debug/pprof/processes writes it; NULL: null */
    size_t tree_json_len;
};

#endif
