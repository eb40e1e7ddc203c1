/* A CPU workload with a known 3:1 split: busy threads alternate between
 * cpu_heavy_three (3 units of work) and cpu_light_one (1 unit). The two are
 * noinline and exported so any symbolizer can name them. */
#ifndef IX_TEST_CPU_WORKLOAD_H
#define IX_TEST_CPU_WORKLOAD_H

#include <stdint.h>
#include <sys/types.h>

uint64_t cpu_heavy_three(uint64_t units);
uint64_t cpu_light_one(uint64_t units);
/* Start n busy threads named "busy-<i>" (n <= 16); stop and join them. */
void workload_start(int n);
void workload_stop(void);
/* 1 when perf_event_open works here (the perf engine can run). */
int perf_available(void);
/* Open file descriptors of this process. */
int count_fds(void);
/* Open descriptors of the kinds the profiler uses (anon inodes, /proc, pipes). */
int count_profiler_kind_fds(void);
/* Open perf_event file descriptors of this process. */
int count_perf_fds(void);
/* Mappings of perf_event rings in this process. */
int count_perf_maps(void);
/* Process CPU of pid (0: this process), read every 2 ms by a monitor
 * thread from its CPU clock (what /proc/<pid>/stat reports, in ns); then the
 * CPU of a pprof profile's window (its Time and Duration, as go tool pprof
 * -raw prints them) in seconds. */
void cpu_monitor_start(pid_t pid);
void cpu_monitor_stop(void);
double cpu_monitor_window(const char *pprof_file);
/* Fetch path from 127.0.0.1:port into file; returns the HTTP status. */
int fetch_to_file(int port, const char *target, const char *file);

#endif
