/* Process figures as Prometheus' standard process_* metrics and as the
 * process part of /debug/vars memstats. */
#include "collectors.h"
#include "gcstats/process.h"
#include <string.h>

#include "util/buf.h"

void ix_collect_process(struct ix_mset *set)
{
    struct ix_process_stats st;
    ix_process_stats_read(&st);
    struct ix_mfamily *f;
    f = ix_mset_family(set, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", IX_COUNTER);
    ix_mset_value0(set, f, st.user_cpu_seconds + st.system_cpu_seconds);
    f = ix_mset_family(set, "process_resident_memory_bytes", "Resident memory size in bytes.", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.rss_bytes);
    f = ix_mset_family(set, "process_virtual_memory_bytes", "Virtual memory size in bytes.", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.virtual_bytes);
    f = ix_mset_family(set, "process_open_fds", "Number of open file descriptors.", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.open_fds);
    f = ix_mset_family(set, "process_max_fds", "Maximum number of open file descriptors.", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.max_fds);
    f = ix_mset_family(set, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", IX_GAUGE);
    ix_mset_value0(set, f, st.start_time_seconds);
    f = ix_mset_family(set, "process_threads", "Number of OS threads in the process.", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.threads);
    f = ix_mset_family(set, "process_resident_memory_peak_bytes", "Peak resident memory size in bytes (VmHWM).", IX_GAUGE);
    ix_mset_value0(set, f, (double)st.peak_rss_bytes);
    f = ix_mset_family(set, "process_page_faults_total", "Page faults by kind.", IX_COUNTER);
    ix_mset_value1(set, f, "kind", "minor", (double)st.minor_faults);
    ix_mset_value1(set, f, "kind", "major", (double)st.major_faults);
}

void ix_memstats_process(introspect_json *j)
{
    struct ix_process_stats st;
    ix_process_stats_read(&st);
#define U(k, v) do { introspect_json_key(j, k); ix_json_uint(j, (v)); } while (0)
#define F(k, v) do { introspect_json_key(j, k); introspect_json_float(j, (v)); } while (0)
    U("rss_bytes", st.rss_bytes);
    U("peak_rss_bytes", st.peak_rss_bytes);
    U("virtual_bytes", st.virtual_bytes);
    U("threads", st.threads);
    U("open_fds", st.open_fds);
    U("max_fds", st.max_fds);
    U("minor_faults", st.minor_faults);
    U("major_faults", st.major_faults);
    F("user_cpu_seconds", st.user_cpu_seconds);
    F("system_cpu_seconds", st.system_cpu_seconds);
    F("start_time_seconds", st.start_time_seconds);
    F("uptime_seconds", st.uptime_seconds);
#undef U
#undef F
}

/* Go's expvar "cmdline": the argument vector as a JSON array. */
void ix_vars_cmdline(introspect_json *j)
{
    ix_buf b;
    ix_buf_init(&b);
    ix_read_cmdline(&b);
    introspect_json_array_begin(j);
    /* ix_read_cmdline drops the final NUL but the buffer stays terminated,
     * so every argument is a C string. */
    for (size_t start = 0; b.data && start <= b.len; start += strlen(b.data + start) + 1)
        introspect_json_string(j, b.data + start);
    introspect_json_array_end(j);
    ix_buf_free(&b);
}
