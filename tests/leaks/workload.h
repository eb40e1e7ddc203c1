/* Workloads for the leak sentinel's tests and bench/leaks: a simulated
 * server whose requests leak from one stack amid heavy churn from others, a
 * cache that fills to a plateau, a steady working set replaced at random, a
 * thread leak (parked threads), a descriptor leak, and steady thread and
 * descriptor churn. Every function is noinline and non-static so its name
 * shows in stacks. Time is the caller's: one call = one simulated interval. */
#ifndef IX_LEAKS_WORKLOAD_H
#define IX_LEAKS_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct lw_config {
    unsigned requests;     /* per interval */
    size_t leak_bytes;     /* leaked per request by leak_request_buffer; 0 = none */
    size_t leak_spread;    /* each leak's size uniform in leak_bytes +- leak_spread */
    unsigned churn_allocs; /* transient allocations per request (64..4096 bytes) */
    unsigned cache_fill;   /* cache entries added per interval until cache_cap */
    unsigned cache_cap;    /* 0 = no cache */
    unsigned sessions;     /* steady working set size (replaced at random); 0 = none */
    unsigned session_replace; /* replacements per interval */
    unsigned leak_threads; /* parked threads leaked per interval */
    unsigned leak_fds;     /* eventfds leaked per interval */
    unsigned churn_threads; /* threads created and joined per interval */
    unsigned churn_fds;    /* pipes opened and closed per interval */
    unsigned extra_leaks;  /* leak_request_buffer(1 KiB) calls per interval besides requests */
    unsigned stacks;       /* transient allocations per request from this many distinct
                            * stacks (recursion depths); 0 = none */
};

void lw_init(const struct lw_config *c, unsigned seed);
/* Run one simulated interval. */
void lw_interval(void);
/* Leak n more 1 KiB blocks from leak_request_buffer (freed by lw_finish). */
void lw_leak(unsigned n);
/* Free, close and join everything (parked threads are woken). */
void lw_finish(void);

/* The leaking functions, for tests that look for them in stacks. */
void *leak_request_buffer(size_t n);
void spawn_parked_worker(void);
int open_leaked_eventfd(void);
void *cache_insert(size_t n);

#endif
