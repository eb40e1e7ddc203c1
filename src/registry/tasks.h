/* The task registry behind introspect_task_* (include/introspect.h), as the
 * endpoints and collectors read it. */
#ifndef IX_TASKS_H
#define IX_TASKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/json.h"
#include "model/tasks.h" /* IX_TASK_NAME_LEN, the by-thread rows */
#include "stack/stack_table.h"

#define IX_TASK_MAX_KINDS 64
#define IX_TASK_MAX_STATES 256

struct ix_task_info {
    uint32_t slot, gen;  /* shown as the task id "slot.gen" */
    int kind;            /* index for ix_task_kind_name */
    int state;           /* index for ix_task_state_name, -1 none */
    pid_t tid;           /* thread running it, 0 none */
    int stack;           /* birth stack id in ix_task_stacks(), -1 not captured */
    int64_t begin_ns;    /* CLOCK_MONOTONIC */
    int64_t deadline_ns; /* 0 none */
    char name[IX_TASK_NAME_LEN];
};

struct ix_task_snapshot {
    struct ix_task_info *tasks; /* oldest first */
    size_t n;
    int64_t now_ns;
};

struct ix_task_totals {
    uint64_t started, ended, deadline_misses;
};

/* Apply the running config (stack sampling rate, live cap). */
void ix_tasks_configure(unsigned stack_every, unsigned max_tasks);
/* Live tasks, oldest first. Overdue tasks seen here for the first time are
 * counted as deadline misses (once per task), so a leaked task that never
 * ends still counts. Returns 0 or INTROSPECT_ENOMEM. */
int ix_tasks_snapshot(struct ix_task_snapshot *s);
void ix_tasks_snapshot_free(struct ix_task_snapshot *s);
int ix_task_nkinds(void);
const char *ix_task_kind_name(int kind);
const char *ix_task_state_name(int state); /* "" for -1 */
/* For grouping (metrics label, JSON key): "none" for -1. */
const char *ix_task_state_label(int state);
void ix_task_kind_totals(int kind, struct ix_task_totals *t);
/* Begins refused because max_tasks were live. */
uint64_t ix_tasks_dropped(void);
struct ix_stack_table *ix_task_stacks(void);

/* Live tasks of a snapshot counted by (kind, state), sorted by kind then
 * state (state -1 = none set). */
struct ix_task_group {
    int kind, state;
    uint64_t live, overdue;
};
/* Returns the number of groups (*out malloc'd, caller frees), or INTROSPECT_ENOMEM. */
int ix_tasks_group(const struct ix_task_snapshot *s, struct ix_task_group **out);

/* Everything the readers show per kind: a snapshot, its groups, and per
 * kind the live/overdue counts and the totals since start. */
struct ix_task_summary {
    struct ix_task_snapshot snap;
    struct ix_task_group *groups;
    int ngroups;
    int nkinds;
    struct ix_task_kind_view {
        uint64_t live, overdue;
        struct ix_task_totals totals;
    } kinds[IX_TASK_MAX_KINDS];
    struct ix_task_kind_view all; /* sums over kinds */
};
int ix_task_summary_load(struct ix_task_summary *s); /* 0 or INTROSPECT_ENOMEM */
void ix_task_summary_free(struct ix_task_summary *s);
/* Write kind k's figures as keys of an open JSON object: live, overdue,
 * started, ended, deadline_misses, states {state: live}. */
void ix_task_kind_json(const struct ix_task_summary *s, int k, introspect_json *j);
unsigned ix_tasks_stack_every(void);

/* A task as the views show it (model/tasks.h): its names resolved. */
void ix_task_row_of(const struct ix_task_info *t, struct ix_task_row *r);
/* Live tasks by the thread running them (model/tasks.h). Returns 0, or
 * INTROSPECT_ENOMEM (bt is then empty but safe to use and free). */
int ix_tasks_by_thread_load(struct ix_tasks_by_thread *bt);
void ix_tasks_by_thread_free(struct ix_tasks_by_thread *bt);
/* The tasks endpoint's model (model/tasks.h): every live task, the figures
 * per kind and the birth stacks (unresolved). Returns 0 or INTROSPECT_ENOMEM;
 * free with ix_task_list_free either way. */
int ix_task_list_load(struct ix_task_list *l);

#endif
