#include "modules.h"

#include "sampling/block/store.h"
#include "gcstats/memtrace.h"
#include "sampling/heap/heap.h"

struct ix_module {
    const char *name;
    int (*start)(const struct ix_config *cfg, char *why, size_t whylen);
    void (*stop)(void);
};

/* Append new modules here. */
static const struct ix_module modules[] = {
    {"none", NULL, NULL},
    {"block", ix_block_start, NULL},
    {"thread_dump", ix_thread_dump_start, NULL},
    {"tasks", ix_tasks_start, NULL},
    {"heap", ix_heap_start, ix_heap_stop},
    {"memtrace", ix_memtrace_start, ix_memtrace_stop},
};
static const size_t nmodules = sizeof modules / sizeof modules[0];

int ix_modules_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    for (size_t i = 0; i < nmodules; i++) {
        if (!modules[i].start)
            continue;
        int rc = modules[i].start(cfg, why, whylen);
        if (rc) {
            while (i-- > 0)
                if (modules[i].stop)
                    modules[i].stop();
            return rc;
        }
    }
    return 0;
}

void ix_modules_stop(void)
{
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i].stop)
            modules[i].stop();
}
