/* The application's metrics and published variables (public API in
 * introspect.h). Internal view for the collectors. */
#ifndef IX_REGISTRY_H
#define IX_REGISTRY_H

#include "util/json.h"
#include "model/metrics.h"

/* Snapshot every registered metric into set (for /metrics). */
void ix_registry_collect(struct ix_mset *set);
/* Write every metric as one JSON object {name: [series...]} (for /debug/vars). */
void ix_registry_json(introspect_json *j);
/* Call fn for every published variable; ix_var_write renders one. */
void ix_vars_each(void (*fn)(void *ctx, const char *key, struct introspect_var *v), void *ctx);
void ix_var_write(introspect_json *j, struct introspect_var *v);
/* 1 when name is taken by a built-in /debug/vars section. */
int ix_vars_reserved(const char *name);

#endif
