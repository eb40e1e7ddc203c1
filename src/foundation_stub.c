/* Temporary: replaced by the registry, process collector and metrics model. */
#include "collectors.h"
void ix_collect_process(struct ix_mset *set) { (void)set; }
void ix_collect_registry(struct ix_mset *set) { (void)set; }
void ix_memstats_process(introspect_json *j) { (void)j; }
void ix_vars_cmdline(introspect_json *j) { introspect_json_null(j); }
void ix_vars_metrics(introspect_json *j) { introspect_json_null(j); }
void ix_mset_init(struct ix_mset *s) { (void)s; }
void ix_mset_free(struct ix_mset *s) { (void)s; }
struct ix_mfamily *ix_mset_family(struct ix_mset *s, const char *n, const char *h, enum ix_mtype t)
{ (void)s; (void)n; (void)h; (void)t; return 0; }
void ix_mset_value(struct ix_mset *s, struct ix_mfamily *f, const char *const *n,
                   const char *const *v, int nl, double x) { (void)s; (void)f; (void)n; (void)v; (void)nl; (void)x; }
void ix_mset_value0(struct ix_mset *s, struct ix_mfamily *f, double v) { (void)s; (void)f; (void)v; }
void ix_mset_value1(struct ix_mset *s, struct ix_mfamily *f, const char *n, const char *v, double x)
{ (void)s; (void)f; (void)n; (void)v; (void)x; }
void ix_mset_histogram(struct ix_mset *s, struct ix_mfamily *f, const char *const *n,
                       const char *const *v, int nl, const double *b, const uint64_t *c, size_t nb, double sum)
{ (void)s; (void)f; (void)n; (void)v; (void)nl; (void)b; (void)c; (void)nb; (void)sum; }
