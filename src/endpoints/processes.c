/* /debug/pprof/processes: the processes of a pre-forking server's tree
 * (tree/table.h), the root first, as JSON; ?format=text for people. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "endpoints/endpoints.h"
#include "tree/table.h"
#include "util/json.h"

static void comm_of(int pid, char *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    out[0] = '\0';
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(out, (int)n, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

/* The list of this tree, or of this process alone when it is in none. */
static int list(struct ix_tree_proc *procs, int max)
{
    int n = ix_tree_list(procs, max);
    if (n == 0) {
        procs[0] = (struct ix_tree_proc){(int)getpid(), (int)getppid(), 0, 0, 1};
        ix_tree_stat(procs[0].pid, &procs[0].start, NULL, NULL);
        n = 1;
    }
    return n;
}

void ix_tree_processes_json(ix_buf *out)
{
    static struct ix_tree_proc procs[IX_TREE_SLOTS + 1]; /* guarded below */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    int n = list(procs, IX_TREE_SLOTS + 1);
    introspect_json j;
    ix_json_init(&j, out);
    introspect_json_object_begin(&j);
    introspect_json_key(&j, "self");
    introspect_json_int(&j, getpid());
    introspect_json_key(&j, "processes");
    introspect_json_array_begin(&j);
    for (int i = 0; i < n; i++) {
        char cmd[1024], comm[64];
        ix_tree_cmdline(procs[i].pid, cmd, sizeof cmd);
        comm_of(procs[i].pid, comm, sizeof comm);
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "pid");
        introspect_json_int(&j, procs[i].pid);
        introspect_json_key(&j, "ppid");
        introspect_json_int(&j, procs[i].ppid);
        introspect_json_key(&j, "root");
        introspect_json_bool(&j, procs[i].root);
        introspect_json_key(&j, "start_time");
        introspect_json_float(&j, ix_tree_start_unix(procs[i].start));
        introspect_json_key(&j, "comm");
        introspect_json_string(&j, comm);
        /* The title a host sets by rewriting its argv ("nginx: worker
         * process", "postgres: bench bench [local] idle") is what
         * /proc/PID/cmdline shows: the role. */
        introspect_json_key(&j, "cmdline");
        introspect_json_string(&j, cmd);
        introspect_json_key(&j, "role");
        introspect_json_string(&j, cmd);
        introspect_json_object_end(&j);
    }
    introspect_json_array_end(&j);
    introspect_json_key(&j, "table_full");
    introspect_json_int(&j, (int64_t)ix_tree_full_count());
    introspect_json_object_end(&j);
    pthread_mutex_unlock(&mu);
}

/* Prometheus HTTP service discovery (http_sd_configs): one target per
 * process, every one the address this request came to, with ?pid=N as a
 * scrape parameter (__param_pid): Prometheus scrapes each process through
 * the root, and each series carries pid and process labels. */
static void http_sd(const struct ix_request *req, struct ix_response *resp)
{
    const char *host = ix_header(req, "Host");
    if (!host || !*host) {
        ix_respond_error(resp, 400, "format=http_sd needs a Host header (the address to scrape)");
        return;
    }
    struct ix_tree_proc procs[IX_TREE_SLOTS + 1];
    int n = list(procs, IX_TREE_SLOTS + 1);
    introspect_json j;
    ix_json_init(&j, &resp->body);
    introspect_json_array_begin(&j);
    for (int i = 0; i < n; i++) {
        char cmd[256], pid[16];
        ix_tree_cmdline(procs[i].pid, cmd, sizeof cmd);
        snprintf(pid, sizeof pid, "%d", procs[i].pid);
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "targets");
        introspect_json_array_begin(&j);
        introspect_json_string(&j, host);
        introspect_json_array_end(&j);
        introspect_json_key(&j, "labels");
        introspect_json_object_begin(&j);
        introspect_json_key(&j, "__param_pid");
        introspect_json_string(&j, procs[i].root ? "self" : pid);
        introspect_json_key(&j, "pid");
        introspect_json_string(&j, pid);
        introspect_json_key(&j, "process");
        introspect_json_string(&j, cmd);
        introspect_json_object_end(&j);
        introspect_json_object_end(&j);
    }
    introspect_json_array_end(&j);
    resp->content_type = "application/json; charset=utf-8";
}

void ix_ep_processes(const struct ix_request *req, struct ix_response *resp)
{
    const char *fmt = ix_param(req, "format");
    if (fmt && strcmp(fmt, "http_sd") == 0) {
        http_sd(req, resp);
        return;
    }
    if (fmt && strcmp(fmt, "text") == 0) {
        struct ix_tree_proc procs[64];
        int n = list(procs, 64);
        ix_buf_printf(&resp->body, "%-8s %-8s %s\n", "PID", "PPID", "CMDLINE");
        for (int i = 0; i < n; i++) {
            char cmd[512];
            ix_tree_cmdline(procs[i].pid, cmd, sizeof cmd);
            ix_buf_printf(&resp->body, "%-8d %-8d %s%s\n", procs[i].pid, procs[i].ppid, cmd,
                          procs[i].root ? "  (root)" : "");
        }
        resp->content_type = "text/plain; charset=utf-8";
        return;
    }
    if (fmt && strcmp(fmt, "json")) {
        ix_respond_error(resp, 400, "unknown format \"%s\" (want json, text or http_sd)", fmt);
        return;
    }
    ix_tree_processes_json(&resp->body);
    resp->content_type = "application/json; charset=utf-8";
}
