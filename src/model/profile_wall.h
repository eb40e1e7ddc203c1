/* The wall profile (/debug/pprof/wall): a CPU profile and an off-CPU
 * profile of the same window merged into one sample type, wall/nanoseconds
 * (and samples/count), each sample labelled thread, state ("running", the
 * system call waited in, "runnable") and idle. The CPU samples are scaled to
 * each thread's exact CPU time (the off-CPU profile's stackless "oncpu"
 * samples, from schedstat) and carry its time runnable after running
 * ("runnable"), so each thread's wall time adds up. */
#ifndef IX_MODEL_PROFILE_WALL_H
#define IX_MODEL_PROFILE_WALL_H

#include "model/profile.h"

/* Build w (initialised here) from cpu and off, sampled at hz by the CPU
 * engine named engine (for the method comment). w->oom on out of memory. */
void ix_profile_wall(struct ix_profile *w, const struct ix_profile *cpu,
                     const struct ix_profile *off, long hz, const char *engine);

#endif
