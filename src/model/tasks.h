/* Live tasks as the per-thread views show them (the thread dump's debug=2
 * text and JSON, the tasks endpoint): plain rows with their names resolved,
 * so encoders need not ask the registry (registry/tasks.h fills them). */
#ifndef IX_MODEL_TASKS_H
#define IX_MODEL_TASKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/profile.h"

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

/* Live tasks of one (kind, state) pair; state is the grouping label ("none"
 * when no state is set). */
struct ix_task_state_count {
    const char *state;
    uint64_t live, overdue;
};

/* One kind's figures: live now, and totals since start. */
struct ix_task_kind_figures {
    const char *kind; /* NULL for the sums over kinds */
    uint64_t live, overdue, started, ended, deadline_misses;
    const struct ix_task_state_count *states; /* its groups, sorted by state */
    size_t nstates;
};

/* Everything /debug/pprof/tasks shows (registry/tasks.h fills it): the
 * figures per kind, every live task oldest first, and their birth stacks as
 * one sample each in `stacks` (resolved by the caller, read by the encoders). */
struct ix_task_list {
    int64_t now_ns;
    struct ix_task_kind_figures all; /* sums over kinds */
    uint64_t dropped;                /* begins refused at the live limit */
    unsigned stack_every;            /* 1 task in N has a birth stack; 0 off */
    struct ix_task_kind_figures *kinds;
    size_t nkinds;
    struct ix_task_state_count *states; /* every kind's, the kinds point into it */
    struct ix_task_row *rows;           /* oldest first */
    int *birth;                         /* per row: its sample in stacks, -1 none */
    size_t n;
    struct ix_profile stacks;
};

/* Past its deadline at now_ns. */
int ix_task_row_overdue(const struct ix_task_row *t, int64_t now_ns);
void ix_task_list_free(struct ix_task_list *l);

#endif
