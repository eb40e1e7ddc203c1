/* Which process in a preload chain runs the module (zero-code mode).
 *
 * LD_PRELOAD and INTROSPECT_ADDR are inherited by every program a command
 * line starts: `timeout 60 memcached`, `runuser -u redis -- redis-server`,
 * `pg_ctl start` (which runs `sh -c "exec postgres ..."`), `sh -c 'server;
 * cleanup'`. Whoever binds first holds the port, and a wrapper that stays
 * alive as the server's parent would keep it while the server runs without.
 *
 * The rule (docs/signals.md, "Which program serves"):
 *  1. INTROSPECT_PROGRAM set: only a process whose executable (basename of
 *     /proc/self/exe) or argv[0] basename matches one of its comma-separated
 *     glob patterns starts the module; every other process stays silent.
 *  2. Unset: every process starts it, except well-known wrappers (shells,
 *     timeout, env, nohup, nice, runuser, su, sudo, setsid, pg_ctl ...: the
 *     list is ix_program_wrappers), which start or exec the real program.
 *  3. Either way, a zero-code start that finds the port taken keeps trying
 *     for a few seconds from a thread of its own: a parent that exits after
 *     starting the server (a launcher, `pg_ctl start`) hands the port over.
 * introspect_start() called by the program itself is never subject to this. */
#ifndef IX_HOST_PROGRAM_H
#define IX_HOST_PROGRAM_H

#include <stddef.h>

/* 1 when this process should run the module (writes its name into name). */
int ix_program_runs_module(char *name, size_t namelen);
/* 1 when `name` matches a comma-separated list of glob patterns. */
int ix_program_matches(const char *patterns, const char *name);
/* The built-in wrapper names, NULL-terminated. */
extern const char *const ix_program_wrappers[];

#endif
