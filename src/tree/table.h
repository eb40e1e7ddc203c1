/* The process tree of a pre-forking server: which processes run an instance.
 *
 * The root (the process that started from the configuration, with the
 * address the user knows) maps one small table MAP_SHARED|MAP_ANONYMOUS
 * before it ever forks. fork(2) shares that mapping with every descendant,
 * however deep, and exec(2) drops it: exactly the processes that keep the
 * root's image see it. A child that starts its own instance (introspect.c,
 * after fork) claims a slot with a compare-and-swap on the pid and
 * publishes its listener's port there.
 *
 * A crashed or killed child never frees its slot, so nobody trusts a slot
 * alone: a slot is live while kill(pid, 0) finds the process, it is not a
 * zombie, and its start time in /proc/PID/stat is still the one recorded
 * (a reused pid is someone else). Readers free the slots they find dead.
 * Nothing here is created per child: no file, no descriptor in the root. */
#ifndef IX_TREE_TABLE_H
#define IX_TREE_TABLE_H

#include <stddef.h>

#include "introspect.h"

#define IX_TREE_SLOTS 512

struct ix_tree_proc {
    int pid;
    int ppid;
    int port;                 /* the instance's loopback port; 0 = not listening */
    unsigned long long start; /* start time, clock ticks after boot (/proc/PID/stat) */
    int root;                 /* 1 for the root */
};

/* In the root at start: map the table (once per process; a no-op in a
 * process that inherited one). Returns 0 or INTROSPECT_ENOMEM. port is the
 * root's own. */
int ix_tree_root_init(int port);
/* 1 in the root of a tree, 0 elsewhere. */
int ix_tree_is_root(void);
/* 1 when this process inherited a table from an ancestor (it is a member). */
int ix_tree_is_member(void);
/* In a member: publish this process's instance on port. 0, INTROSPECT_EINVAL
 * when this process is no member, or INTROSPECT_ELIMIT when the table is full
 * (the count of refusals is kept: ix_tree_full_count). */
int ix_tree_register(int port);
/* In a member whose instance stops: free its slot. */
void ix_tree_unregister(void);
unsigned long ix_tree_full_count(void);

/* The root's private directory for partial profiles (tree/spill.h), shared
 * through the table: set by the root (NULL: none), read by any member.
 * ix_tree_spill_dir: 0 with the path in out, or INTROSPECT_ENOTSTARTED when
 * there is none. */
#define IX_TREE_SPILL_DIR_MAX 160
void ix_tree_set_spill_dir(const char *dir);
int ix_tree_spill_dir(char *out, size_t n);

/* The live processes, the root first: up to max into out. Frees dead slots. */
int ix_tree_list(struct ix_tree_proc *out, int max);
/* The live process pid of this tree into *out: 0, or INTROSPECT_EINVAL when
 * unknown. */
int ix_tree_find(int pid, struct ix_tree_proc *out);
/* Number of live members (the root excluded). */
int ix_tree_children(void);

/* /proc readers for the list: the command line with NULs as spaces (the
 * process title when the host rewrote its argv: "nginx: worker process"),
 * and the start time in Unix seconds. */
void ix_tree_cmdline(int pid, char *out, size_t n);
double ix_tree_start_unix(unsigned long long ticks);
/* Start time (clock ticks after boot) and state of pid from /proc/PID/stat:
 * 0, or INTROSPECT_ESYS when the process is gone (its stat unreadable). */
int ix_tree_stat(int pid, unsigned long long *start, char *state, int *ppid);
/* The same, and the exit code (the waitpid status while a zombie, -1 when
 * the kernel does not show it). */
int ix_tree_stat_exit(int pid, unsigned long long *start, char *state, int *ppid, int *exit_code);

#endif
