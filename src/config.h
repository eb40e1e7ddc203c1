/* The effective configuration: the caller's struct (or defaults) overridden
 * by INTROSPECT_* environment variables, validated, with owned strings. */
#ifndef IX_CONFIG_H
#define IX_CONFIG_H

#include <netinet/in.h>
#include <sys/socket.h>
#include "introspect.h"

struct ix_config {
    char *addr;
    struct sockaddr_storage sa;
    socklen_t salen;
    int loopback;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned connection_timeout_s;
    unsigned max_profile_seconds;
    unsigned max_profile_hz;
    int cpu_signal;
    char *cpu_engine;
    char *token;
    int64_t block_profile_rate;
    int mutex_fraction; /* INTROSPECT_MUTEX_FRACTION; -1 = leave as set by the API */
    int dump_signal;
    unsigned task_stack_every;
    unsigned max_tasks;
    unsigned long heap_rate;
    unsigned memtrace_seconds;
    unsigned history_interval_s; /* leak history: seconds between snapshots; 0 = off */
    unsigned long history_budget; /* leak history: bytes; 0 = off */
    int leak_report;              /* INTROSPECT_LEAK_REPORT=1 */
    int heap_unwind_dwarf; /* INTROSPECT_HEAP_UNWIND=dwarf (default fp: frame pointers first) */
    int heap_no_redirect;  /* INTROSPECT_HEAP_REDIRECT=0: another allocator first -> its hooks */
    int allow_interrupt;   /* INTROSPECT_ALLOW_INTERRUPT=1: thread dumps accept ?interrupt=1 */
    int fd_stacks;         /* INTROSPECT_FD_STACKS=1: descriptors' creating stacks (leaks) */
    int walk_nondumpable;  /* INTROSPECT_WALK_NONDUMPABLE=1: open /proc/self/task/N/syscall of a
                            * non-dumpable process in a brief PR_SET_DUMPABLE window */
    char *tls_cert; /* PEM contents (not paths); both NULL = plain HTTP */
    char *tls_key;
    char *allowed_hosts; /* NULL = loopback names only */
    /* Pre-forking servers (tree/): a forked child that keeps running starts
     * its own instance tree_delay_ms after the fork (INTROSPECT_TREE=0: never). */
    int tree;
    unsigned tree_delay_ms;
    unsigned max_routes; /* INTROSPECT_MAX_ROUTES: request routes tracked (1..1024; default 64) */
    char *slo;           /* INTROSPECT_SLO: objectives (requests/requests.h); NULL none */
};

/* Shortest token accepted on a non-loopback address (shorter on loopback:
 * a warning at start). */
#define IX_MIN_TOKEN_LEN 16

/* Build from cfg (NULL = defaults) and the environment. On error returns a
 * negative code and writes a reason into why. */
int ix_config_load(struct ix_config *out, const introspect_config *cfg, char *why, size_t whylen);
void ix_config_free(struct ix_config *c);
/* Parse "host:port" / "[v6]:port" into a socket address; numeric or
 * "localhost" hosts only, so startup never blocks on DNS. */
int ix_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *len, int *loopback);

#endif
