#include "modules.h"

#include "sampling/block/mutex.h"
#include "gcstats/memtrace.h"
#include "http/router.h"
#include "sampling/block/store.h"
#include "leaks/history.h"
#include "sampling/heap/heap.h"
#include "stack/unwind_tables.h"
#include "symbolize/objects.h"

struct ix_module {
    int (*start)(const struct ix_config *cfg, char *why, size_t whylen);
    void (*stop)(void); /* NULL: nothing to stop */
    /* In a forked child (only the forking thread exists): drop what the
     * parent's module threads were doing, without joining or locking them. */
    void (*forked)(void);
};

/* The heap sampler keeps every request handler's allocations out of the heap
 * profile: it asks the router to run its exclude pair around each handler. */
static const struct ix_handler_guard heap_guard = {ix_heap_exclude_begin, ix_heap_exclude_end};

static int heap_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    int rc = ix_heap_start(cfg, why, whylen);
    if (rc == 0)
        ix_router_set_guard(&heap_guard);
    return rc;
}

/* The unwind tables' idle drop (stack/unwind_tables.h) runs between these. */
static int unwind_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    (void)cfg, (void)why, (void)whylen;
    ix_unwind_tables_start();
    return 0;
}

static void heap_stop(void)
{
    ix_router_set_guard(NULL);
    ix_heap_stop();
}

/* Append new modules here, in start order. */
static const struct ix_module modules[] = {
    {ix_block_start, NULL, NULL},
    {ix_mutex_prof_start, NULL, NULL},
    {ix_thread_dump_start, NULL, ix_thread_dump_forked},
    {ix_tasks_start, NULL, NULL},
    {ix_requests_start, NULL, NULL},
    {heap_start, heap_stop, ix_heap_stop},
    {ix_memtrace_start, ix_memtrace_stop, ix_memtrace_forked},
    {ix_history_start, ix_history_stop, NULL},
    {ix_symobj_reaper_start, ix_symobj_reaper_stop, NULL}, /* forked: ix_symobj_forked */
    {unwind_start, ix_unwind_tables_stop, NULL}, /* forked: ix_unwind_tables_forked */
};
static const size_t nmodules = sizeof modules / sizeof modules[0];

int ix_modules_start(const struct ix_config *cfg, char *why, size_t whylen)
{
    for (size_t i = 0; i < nmodules; i++) {
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

void ix_modules_forked(void)
{
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i].forked)
            modules[i].forked();
}

void ix_modules_stop(void)
{
    for (size_t i = nmodules; i-- > 0;)
        if (modules[i].stop)
            modules[i].stop();
}
