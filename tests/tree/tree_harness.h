/* What the process-tree tests share (test_tree.c, test_tree_exit.c):
 * forking children that spin under a function their samples name, waiting
 * for the root to list them, and a main that skips under sanitizers. */
#ifndef IX_TREE_HARNESS_H
#define IX_TREE_HARNESS_H

#include <sys/types.h>

#include "harness.h"

void tree_sleep_ms(long ms);
/* Occurrences of needle in s. */
int tree_count_substr(const char *s, const char *needle);
/* Fork a child that dies with this process (PR_SET_PDEATHSIG) and runs
 * body, which must not return. The child's pid. */
pid_t tree_fork(void (*body)(void));
/* Wait until the root on port lists n processes (a child starts its
 * instance a moment after its fork); bounded as a watchdog (30 s), not as a
 * limit. The /debug/pprof/processes body that did, to free. */
char *tree_wait_for_processes(int port, int n);
/* main: under sanitizers children get no instance by default (config.c),
 * and LeakSanitizer at each child's exit would fail the children, so the
 * tests are skipped (exit 77); --list still lists them. */
int tree_main(int argc, char **argv, const struct ix_test *tests);

#endif
