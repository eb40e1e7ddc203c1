/* /debug/pprof/trace: an execution trace of every thread for ?seconds=N
 * (default 1, at most max_profile_seconds; Go's path and parameter), in the
 * Chrome trace-event JSON format (format/trace_json.h) as a download.
 * ?hz= sets the thread-state sampling rate (default 1000, at most 2000);
 * ?cpu_hz= the rate of the CPU samples drawn on the threads' lanes
 * (default 100, at most max_profile_hz; 0 takes none). ?format=perfetto
 * gives the same trace as Perfetto's protobuf (format/trace_perfetto.h),
 * downloaded as trace.pftrace.
 * ?tree_t0_ns=T (the root of a process tree asks each process for its part,
 * tree/route.h): timestamps count from T (CLOCK_MONOTONIC ns; Perfetto's
 * stay absolute and its notes carry T), ids carry the pid, and the process
 * track is named with its title. A part whose process exits (exit(3)) in
 * the window is encoded up to then, during the exit's bounded hold, and
 * left for the root (tree/spill.h, as IX_TREE_SPILL_TRACE_JSON or _PERFETTO)
 * instead of an answer that could arrive cut short.
 * One trace at a time (the heavy slot "trace": 409 with Retry-After). The
 * request's thread sleeps through the window and stops early when the
 * client leaves or the module stops. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoints/endpoints.h"
#include "endpoints/params.h"
#include "endpoints/serve_profile.h"
#include "format/trace_json.h"
#include "format/trace_perfetto.h"
#include "http/heavy.h"
#include "runtime.h"
#include "sampling/trace/window.h"
#include "tree/spill.h"
#include "tree/table.h"


static pthread_mutex_t g_encode_lock = PTHREAD_MUTEX_INITIALIZER;

/* A child forked while an encoding held the lock gets it free: the
 * encoding thread does not exist there. */
static void encode_lock_in_child(void) { pthread_mutex_init(&g_encode_lock, NULL); }
static void encode_lock_once(void) { pthread_atfork(NULL, NULL, encode_lock_in_child); }

void ix_ep_trace(const struct ix_request *req, struct ix_response *resp)
{
    const struct ix_config *cfg = ix_running_config();
    long seconds, hz, cpu_hz = 0;
    const char *cpu = ix_param(req, "cpu_hz");
    if (ix_param_seconds(req, resp, 1, &seconds) ||
        ix_param_positive(req, resp, "hz", IX_TRACE_MAX_HZ, "trace hz limit",
                          IX_TRACE_DEFAULT_HZ, &hz) ||
        ((!cpu || strcmp(cpu, "0") != 0) &&
         ix_param_positive(req, resp, "cpu_hz", cfg ? (long)cfg->max_profile_hz : 1000,
                           "max_profile_hz", IX_TRACE_DEFAULT_CPU_HZ, &cpu_hz)))
        return;
    const char *format = ix_param_format(req);
    int perfetto = format && strcmp(format, "perfetto") == 0;
    if (format && !perfetto && strcmp(format, "json") != 0) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (the trace is json or perfetto)", format);
        return;
    }
    const char *base_text = ix_param(req, "tree_t0_ns");
    long long base = 0;
    if (base_text) {
        char *end;
        errno = 0;
        base = strtoll(base_text, &end, 10);
        if (!*base_text || *end || errno || base <= 0) {
            ix_respond_error(resp, 400, "invalid value for \"tree_t0_ns\" - must be a "
                                        "CLOCK_MONOTONIC time in ns");
            return;
        }
    }
    ix_trace_window_prepare();
    if (ix_heavy_try_as("trace", seconds * 1000,
                        "a trace is already running (it ends in about %ld s)", resp))
        return;
    struct ix_trace_window *w;
    struct ix_trace_cpu_opts co = {cpu_hz, cfg ? cfg->cpu_engine : NULL,
                                   cfg ? cfg->cpu_signal : SIGPROF};
    int rc = ix_trace_window_start(hz, seconds, &co, &w);
    if (rc) {
        ix_heavy_done("trace");
        if (rc == INTROSPECT_EBUSY) {
            ix_respond_error(resp, 409, "a trace is already running");
            ix_response_header(resp, "Retry-After", "%ld", seconds);
        } else {
            ix_respond_error(resp, 500, "could not start the trace: %s", introspect_strerror(rc));
        }
        return;
    }
    int hold = base && ix_tree_spill_armed();
    if (hold)
        ix_exit_hold();
    enum ix_wait ended = ix_ep_sleep(req, seconds, ix_trace_window_poll);
    struct ix_trace t;
    ix_trace_window_stop(w, &t);
    ix_heavy_done("trace");
    /* Encodings run one at a time: the slot is free once the window
     * closed, so the next trace's encoding may overlap this one, and two
     * traces symbolizing through libdw at once crashed in
     * dwarf_getsrclines under TSan (trace.task_moving_threads, whose probe
     * trace ends while the test's trace ends). */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, encode_lock_once);
    pthread_mutex_lock(&g_encode_lock);
    int exiting = ended == IX_WAIT_EXITING && hold;
    char title[128], name[160];
    if (base) {
        ix_tree_cmdline((int)getpid(), title, sizeof title);
        snprintf(name, sizeof name, "%.95s (pid %d)", title, (int)getpid());
    }
    if (ended != IX_WAIT_DONE && !exiting) {
        ix_respond_capture_ended(resp, ended);
    } else if (perfetto) {
        struct ix_trace_perfetto_part part = {base, name};
        if (ix_trace_perfetto(&t, base ? &part : NULL, &resp->body)) {
            ix_buf_free(&resp->body);
            ix_buf_init(&resp->body);
            ix_respond_error(resp, 500, "the trace could not be encoded: out of memory");
        } else {
            resp->content_type = "application/octet-stream";
            ix_response_header(resp, "Content-Disposition",
                               "attachment; filename=\"trace.pftrace\"");
        }
    } else {
        struct ix_trace_json_part part = {base, name};
        ix_trace_json(&t, base ? &part : NULL, &resp->body);
        resp->content_type = "application/json";
        ix_response_header(resp, "Content-Disposition", "attachment; filename=\"trace.json\"");
    }
    pthread_mutex_unlock(&g_encode_lock);
    ix_trace_free(&t);
    /* Exiting: the part until now is left for the root, which reads it when
     * this answer does not come. */
    if (exiting && resp->status == 200 && !resp->body.oom &&
        ix_tree_spill_write_as(perfetto ? IX_TREE_SPILL_TRACE_PERFETTO : IX_TREE_SPILL_TRACE_JSON,
                               resp->body.data, resp->body.len) == 0) {
        ix_buf_free(&resp->body);
        ix_buf_init(&resp->body);
        ix_respond_error(resp, 503, "trace interrupted: the process is exiting (its trace until "
                                    "then is left for the tree's root)");
    } else if (exiting && resp->status == 200) {
        ix_buf_free(&resp->body);
        ix_buf_init(&resp->body);
        ix_respond_capture_ended(resp, ended);
    }
    if (hold)
        ix_exit_release();
}
