/* Helpers shared by the pool tests: read a pool's /debug/vars object with a
 * real JSON parser (python3), run go tool pprof and promtool on live URLs. */
#ifndef IX_POOL_CHECK_H
#define IX_POOL_CHECK_H

/* Evaluate a python expression over p = the pool's /debug/vars object
 * (d = the whole document) and return it as an integer. Fails the test when
 * the pool is missing or the expression raises. */
long long vars_eval(int port, const char *pool, const char *expr);
/* Assert a python boolean expression over p and d (prints the object on failure). */
void vars_assert(int port, const char *pool, const char *expr);
/* Output of `go tool pprof <args> http://127.0.0.1:port<path>` (caller frees);
 * fails the test when pprof exits non-zero. */
char *pprof_url(int port, const char *args, const char *path);
/* `promtool check metrics` on /metrics; fails the test on any complaint. */
void promtool_check(int port);
/* The /metrics body (caller frees). */
char *metrics_body(int port);

#endif
