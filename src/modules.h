/* Producers that keep state while the server runs (samplers, registries
 * with threads) start and stop with it. Each module's hooks are listed in
 * modules.c, in start order; stop runs in reverse. */
#ifndef IX_MODULES_H
#define IX_MODULES_H

#include <stddef.h>
#include "config.h"

int ix_modules_start(const struct ix_config *cfg, char *why, size_t whylen);
void ix_modules_stop(void);
/* In a forked child: every module forgets its threads' work (no join, no lock). */
void ix_modules_forked(void);

/* Module hooks (listed in modules.c). */
int ix_thread_dump_start(const struct ix_config *cfg, char *why, size_t whylen);
void ix_thread_dump_forked(void);
int ix_tasks_start(const struct ix_config *cfg, char *why, size_t whylen);
int ix_requests_start(const struct ix_config *cfg, char *why, size_t whylen);

#endif
