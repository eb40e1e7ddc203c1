/* The process's threads, read from /proc/self/task (no cooperation needed). */
#ifndef IX_THREADLIST_H
#define IX_THREADLIST_H

#include <sys/types.h>

/* Fill up to max tids; returns how many threads exist (may exceed max), or INTROSPECT_ESYS. */
int ix_thread_list(pid_t *tids, int max);
/* The thread's name (comm), "" when it has exited. */
void ix_thread_name(pid_t tid, char *buf, int len);
pid_t ix_gettid(void);

#endif
