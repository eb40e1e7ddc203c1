/* /metrics figures of the CPU profiler. */
#include "collectors.h"
#include "sampling/cpu/profiler.h"

void ix_collect_cpu(struct ix_mset *set)
{
    struct ix_cpu_totals t;
    ix_cpu_totals(&t);
    const char *engine = t.engine[0] ? t.engine : "none";
    struct ix_mfamily *f;
    f = ix_mset_family(set, "introspect_cpu_profiles_total", "CPU profiles taken", IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.profiles);
    f = ix_mset_family(set, "introspect_cpu_profile_active", "1 while a CPU profile runs",
                       IX_GAUGE);
    ix_mset_value0(set, f, t.active);
    f = ix_mset_family(set, "introspect_cpu_samples_total",
                       "Signals recorded as CPU samples by finished profiles", IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.samples);
    f = ix_mset_family(set, "introspect_cpu_sample_periods_total",
                       "Sampling periods the samples stand for (timer overruns included)",
                       IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.periods);
    f = ix_mset_family(set, "introspect_cpu_dropped_samples_total",
                       "CPU samples dropped because the ring was full", IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.drops);
    f = ix_mset_family(set, "introspect_cpu_timer_overruns_total",
                       "Timer expiries folded into late samples (si_overrun)", IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.overruns);
    f = ix_mset_family(set, "introspect_cpu_threads_sampled_total",
                       "Threads that got at least one sample, summed over profiles", IX_COUNTER);
    ix_mset_value1(set, f, "engine", engine, (double)t.threads);
}
