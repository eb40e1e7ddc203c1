/* The shared frame of the per-call benchmarks (bench_tasks, bench_requests):
 * run a loop on N threads at once, each timing itself in its own CPU time
 * (CLOCK_THREAD_CPUTIME_ID, so descheduling on a loaded machine does not
 * count), and keep the median over runs of the threads' mean. */
#ifndef BENCH_PER_THREAD_H
#define BENCH_PER_THREAD_H

/* The calling thread's CPU time in seconds. */
double bench_thread_cpu_s(void);
/* ns of one clock_gettime(CLOCK_MONOTONIC), in thread CPU time, over iters calls. */
double bench_clock_cost_ns(long iters);
/* Run loop(cfg) on `threads` threads (at most 16) at once, `runs` times
 * (at most 31); loop returns its own ns per iteration. Returns the median
 * over runs of the mean over threads. */
double bench_threads_median(int threads, int runs, double (*loop)(const void *cfg),
                            const void *cfg);

#endif
