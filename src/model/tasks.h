/* Live tasks as the per-thread views show them (the thread dump's debug=2
 * text and JSON, the tasks endpoint): plain rows with their names resolved,
 * so encoders need not ask the registry (registry/tasks.h fills them). */
#ifndef IX_MODEL_TASKS_H
#define IX_MODEL_TASKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IX_TASK_NAME_LEN 64

struct ix_task_row {
    uint32_t slot, gen;  /* shown as the task id "slot.gen" */
    const char *kind;    /* the registry's interned name: lives as long as the process */
    const char *state;   /* likewise, "" when none set */
    pid_t tid;           /* thread running it, 0 none */
    int64_t begin_ns;    /* CLOCK_MONOTONIC */
    int64_t deadline_ns; /* 0 none */
    char name[IX_TASK_NAME_LEN];
};

/* Live tasks by the thread running them: one snapshot, sorted by tid (oldest
 * first within a thread). */
struct ix_tasks_by_thread {
    struct ix_task_row *rows; /* tasks with a thread only */
    size_t n;
    int64_t now_ns;           /* when the snapshot was taken */
};

/* The range [*first, return) of bt->rows whose tasks run on tid. */
size_t ix_tasks_by_thread_range(const struct ix_tasks_by_thread *bt, pid_t tid, size_t *first);

#endif
