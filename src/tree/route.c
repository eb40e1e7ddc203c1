#include "tree/route.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "format/gzip.h"
#include "format/pprof_merge.h"
#include "format/trace_merge.h"
#include "host/threads.h"
#include "runtime.h"
#include "tree/fetch.h"
#include "tree/spill.h"
#include "tree/table.h"
#include "util/clock.h"

#define MAX_FETCHERS 16
#define TRACE_PATH "/debug/pprof/trace"
#define TITLE_MAX 96

static const char *const merged_paths[] = {
    "/debug/pprof/profile", "/debug/pprof/heap",    "/debug/pprof/allocs", "/debug/pprof/goroutine",
    "/debug/pprof/threads", "/debug/pprof/block",   "/debug/pprof/mutex",
};

static int is_merged_path(const char *p)
{
    for (size_t i = 0; i < sizeof merged_paths / sizeof merged_paths[0]; i++)
        if (strcmp(p, merged_paths[i]) == 0)
            return 1;
    return 0;
}

/* Content types outlive the handler (the server sends after it returns):
 * keep each distinct one once. */
static const char *intern_type(const char *t)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char types[32][128];
    static int n;
    if (!*t)
        return "application/octet-stream";
    const char *r = "application/octet-stream";
    pthread_mutex_lock(&mu);
    for (int i = 0; i < n; i++)
        if (strcmp(types[i], t) == 0) {
            r = types[i];
            goto out;
        }
    if (n < 32) {
        snprintf(types[n], sizeof types[n], "%s", t);
        r = types[n++];
    }
out:
    pthread_mutex_unlock(&mu);
    return r;
}

/* The request's target without its pid parameter. */
static void target_without_pid(const struct ix_request *req, ix_buf *out)
{
    ix_buf_puts(out, req->path);
    const char *q = req->query ? req->query : "";
    int first = 1;
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n && !(n >= 4 && strncmp(q, "pid=", 4) == 0) && !(n == 3 && strncmp(q, "pid", 3) == 0)) {
            ix_buf_putc(out, first ? '?' : '&');
            ix_buf_put(out, q, n);
            first = 0;
        }
        q += n;
        if (*q == '&')
            q++;
    }
}

/* The longest a process may take: the request's window plus a grace. */
static long timeout_ms(const struct ix_request *req)
{
    long secs = 0;
    const char *s = ix_param(req, "seconds");
    if (!s || ix_parse_long(s, &secs) || secs <= 0)
        secs = strcmp(req->path, "/debug/pprof/profile") == 0 ? 30
               : strcmp(req->path, TRACE_PATH) == 0    ? 1
                                                       : 0;
    const struct ix_config *cfg = ix_running_config();
    if (cfg && secs > (long)cfg->max_profile_seconds)
        secs = (long)cfg->max_profile_seconds;
    return (secs + IX_TREE_GRACE_S) * 1000L;
}

static const char *token(void)
{
    const struct ix_config *cfg = ix_running_config();
    return cfg ? cfg->token : NULL;
}

static void copy_answer(struct ix_fetch *f, struct ix_response *resp)
{
    resp->status = f->status;
    resp->content_type = intern_type(f->content_type);
    if (f->content_encoding[0])
        ix_response_header(resp, "Content-Encoding", "%s", f->content_encoding);
    if (f->disposition[0])
        ix_response_header(resp, "Content-Disposition", "%s", f->disposition);
    ix_buf_put(&resp->body, f->body.data, f->body.len);
}

static int proxy(const struct ix_request *req, struct ix_response *resp, const char *pidtext)
{
    long pid;
    if (ix_parse_long(pidtext, &pid) || pid <= 0 || pid > 0x7fffffffL) {
        ix_respond_error(resp, 400, "invalid value for \"pid\" - must be a process id of this "
                                    "tree (see /debug/pprof/processes) or self");
        return 1;
    }
    if (pid == getpid())
        return 0;
    struct ix_tree_proc p;
    if (ix_tree_find((int)pid, &p) || p.port <= 0) {
        ix_respond_error(resp, 404, "no process %ld in this tree (see /debug/pprof/processes)",
                         pid);
        return 1;
    }
    struct ix_fetch f;
    memset(&f, 0, sizeof f);
    ix_buf target;
    ix_buf_init(&target);
    target_without_pid(req, &target);
    f.port = p.port;
    f.target = target.data;
    f.token = token();
    f.timeout_ms = timeout_ms(req);
    if (ix_fetch_get(&f))
        ix_respond_error(resp, 502, "process %ld did not answer: %s", pid, f.err);
    else
        copy_answer(&f, resp);
    ix_buf_free(&f.body);
    ix_buf_free(&target);
    return 1;
}

/* ---- fan-out ---- */

struct job {
    struct ix_tree_proc proc;
    char title[TITLE_MAX];
    struct ix_fetch f;
    int rc;
    int root_names; /* asked with symbolize=0: the root names its frames while merging */
};

struct fan {
    struct job *jobs;
    int n;
    atomic_int next;
};

static void *fetcher(void *arg)
{
    struct fan *fan = arg;
    for (int i; (i = atomic_fetch_add(&fan->next, 1)) < fan->n;)
        fan->jobs[i].rc = ix_fetch_get(&fan->jobs[i].f);
    return NULL;
}

static void title_of(int pid, char *out)
{
    char t[512];
    ix_tree_cmdline(pid, t, sizeof t);
    snprintf(out, TITLE_MAX, "%.*s", TITLE_MAX - 1, t);
}

/* Can the root name a child's frames itself: can it read the child's maps
 * (the same user, or a root that may)? */
static int maps_readable(int pid)
{
    char path[40];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* One job per child, and up to MAX_FETCHERS threads fetching them: the
 * number of threads started (0: no thread could start, and the jobs were
 * fetched one after another on this thread, before the local answer).
 * target_sym0: the same request with symbolize=0 (children the root can
 * name frames for), or NULL (every child symbolizes its own answer). */
static int fan_start(struct fan *fan, const struct ix_tree_proc *procs, int nprocs,
                     const char *target, const char *target_sym0, long tmo, pthread_t *th)
{
    for (int i = 0; i < nprocs; i++) {
        if (procs[i].root || procs[i].port <= 0)
            continue;
        struct job *j = &fan->jobs[fan->n++];
        j->proc = procs[i];
        title_of(procs[i].pid, j->title);
        j->f.port = procs[i].port;
        j->root_names = target_sym0 && maps_readable(procs[i].pid);
        j->f.target = j->root_names ? target_sym0 : target;
        j->f.token = token();
        j->f.timeout_ms = tmo;
        j->rc = INTROSPECT_ENOTSTARTED; /* not fetched yet */
    }
    int nth = 0;
    for (; nth < MAX_FETCHERS && nth < fan->n; nth++)
        if (ix_module_thread_create(&th[nth], 0, fetcher, fan, "introspect-tree"))
            break;
    if (nth == 0)
        fetcher(fan);
    return nth;
}

static void fan_finish(pthread_t *th, int nth)
{
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
}

/* Why a child's answer is missing, into note ("" when it answered 200). */
static void missing_note(const struct job *j, char *note, size_t n)
{
    char why[200];
    note[0] = '\0';
    if ((j->rc || j->f.status == 503) &&
        ix_tree_gone_reason(j->proc.pid, j->proc.start, j->f.timed_out ? 0 : 300, why, sizeof why))
        snprintf(note, n, "introspect: pid %d (%s) is missing: %s", j->proc.pid, j->title, why);
    else if (j->rc)
        snprintf(note, n, "introspect: pid %d (%s) is missing: %s", j->proc.pid, j->title,
                 j->f.err);
    else if (j->f.status != 200)
        snprintf(note, n, "introspect: pid %d (%s) is missing: it answered %d: %.*s", j->proc.pid,
                 j->title, j->f.status, (int)strcspn(j->f.body.data ? j->f.body.data : "", "\n"),
                 j->f.body.data ? j->f.body.data : "");
}

static void fan_out(const struct ix_request *req, struct ix_response *resp, ix_handler local,
                    struct ix_tree_proc *procs, int nprocs, int debug)
{
    struct fan fan = {.jobs = calloc((size_t)nprocs, sizeof(struct job)), .n = 0};
    ix_buf target, target_sym0;
    ix_buf_init(&target);
    ix_buf_init(&target_sym0);
    target_without_pid(req, &target);
    /* A merged pprof answer: children send addresses, the root names them
     * once for all (format/merge_symbols.h), unless the client asked for
     * addresses itself. */
    int root_names = !debug && !ix_param(req, "symbolize") && !ix_param(req, "format");
    if (root_names)
        ix_buf_printf(&target_sym0, "%s%csymbolize=0", target.data ? target.data : "",
                      strchr(target.data ? target.data : "", '?') ? '&' : '?');
    if (!fan.jobs || target.oom || target_sym0.oom) {
        free(fan.jobs);
        ix_buf_free(&target);
        ix_buf_free(&target_sym0);
        local(req, resp);
        return;
    }
    /* A CPU profile: children that exit in the window leave what they had. */
    int spill = !debug && strcmp(req->path, "/debug/pprof/profile") == 0 &&
                ix_tree_spill_begin(procs, nprocs) == 0;
    pthread_t th[MAX_FETCHERS];
    int nth = fan_start(&fan, procs, nprocs, target.data, root_names ? target_sym0.data : NULL,
                        timeout_ms(req), th);
    /* The root's own answer, on this thread, in the same window. */
    struct ix_response mine;
    ix_response_init(&mine);
    local(req, &mine);
    fan_finish(th, nth);
    char self_title[TITLE_MAX];
    title_of(getpid(), self_title);
    if (mine.status != 200 || mine.body.oom) { /* a bad query: every process says the same */
        *resp = mine;
        goto done;
    }
    if (debug) {
        resp->status = 200;
        resp->content_type = mine.content_type;
        ix_buf_printf(&resp->body, "# introspect: process tree of %d processes\n\n", fan.n + 1);
        ix_buf_printf(&resp->body, "# pid %d (%s), the root\n", (int)getpid(), self_title);
        ix_buf_put(&resp->body, mine.body.data, mine.body.len);
        for (int i = 0; i < fan.n; i++) {
            struct job *j = &fan.jobs[i];
            ix_buf_printf(&resp->body, "\n# pid %d (%s), child of %d\n", j->proc.pid, j->title,
                          j->proc.ppid);
            if (j->rc)
                ix_buf_printf(&resp->body, "# missing: %s\n", j->f.err);
            else if (j->f.status != 200)
                ix_buf_printf(&resp->body, "# answered %d: %.*s\n", j->f.status,
                              (int)strcspn(j->f.body.data ? j->f.body.data : "", "\n"),
                              j->f.body.data ? j->f.body.data : "");
            else
                ix_buf_put(&resp->body, j->f.body.data, j->f.body.len);
        }
        ix_response_free(&mine);
        goto done;
    }
    struct ix_pprof_part *parts = calloc((size_t)fan.n + 1, sizeof *parts);
    char **notes = calloc((size_t)fan.n + 2, sizeof *notes);
    int nparts = 0, nnotes = 0;
    if (!parts || !notes) {
        free(parts);
        free(notes);
        *resp = mine;
        goto done;
    }
    parts[nparts++] =
        (struct ix_pprof_part){mine.body.data, mine.body.len, (int)getpid(), self_title, 0};
    for (int i = 0; i < fan.n; i++) {
        struct job *j = &fan.jobs[i];
        char note[400];
        note[0] = '\0';
        int left = 0; /* a child that ended in the window, and the profile it left */
        if ((j->rc || j->f.status == 503) && spill) {
            ix_buf got;
            ix_buf_init(&got);
            left = ix_tree_spill_take(j->proc.pid, j->proc.start, &got) == 0;
            if (left) {
                ix_buf_free(&j->f.body);
                j->f.body = got;
            } else {
                ix_buf_free(&got);
            }
        }
        if (left) {
            snprintf(note, sizeof note, "introspect: pid %d (%s) exited during the window: the "
                     "profile it wrote as it exited is merged", j->proc.pid, j->title);
        } else {
            missing_note(j, note, sizeof note);
        }
        if (!note[0] || left) /* a profile left at exit was named by its process */
            parts[nparts++] = (struct ix_pprof_part){j->f.body.data, j->f.body.len, j->proc.pid,
                                                     j->title, j->root_names && !left};
        if (note[0])
            notes[nnotes++] = strdup(note);
    }
    char summary[128];
    snprintf(summary, sizeof summary, "introspect: process tree: %d of %d processes merged",
             nparts, fan.n + 1);
    notes[nnotes++] = strdup(summary);
    int merged = ix_pprof_merge(parts, nparts, (const char *const *)notes, nnotes, &resp->body);
    if (merged < 0) {
        ix_buf_free(&resp->body);
        ix_buf_init(&resp->body);
        ix_respond_error(resp, 500, "the processes' profiles could not be merged");
    } else {
        resp->status = 200;
        resp->content_type = mine.content_type;
        for (int i = 0; i < mine.nheaders; i++)
            if (strcasecmp(mine.headers[i].name, "Content-Length"))
                ix_response_header(resp, mine.headers[i].name, "%s", mine.headers[i].value);
    }
    for (int i = 0; i < nnotes; i++)
        free(notes[i]);
    free(notes);
    free(parts);
    ix_response_free(&mine);
done:
    if (spill) {
        for (int i = 0; i < fan.n; i++)
            ix_tree_spill_discard(fan.jobs[i].proc.pid, fan.jobs[i].proc.start);
        ix_tree_spill_end();
    }
    for (int i = 0; i < fan.n; i++)
        ix_buf_free(&fan.jobs[i].f.body);
    free(fan.jobs);
    ix_buf_free(&target);
    ix_buf_free(&target_sym0);
}

/* A trace of the tree: every process traces the same window, counting time
 * from one base taken here (CLOCK_MONOTONIC is the machine's, so the
 * processes' lanes line up), each asked for its part with ?tree_t0_ns=
 * (endpoints/trace.c), and the parts spliced into one trace, JSON or
 * Perfetto (format/trace_merge.h). A child that exits in the window leaves
 * its part until then in the spill directory (tree/spill.h), merged and
 * named as exited. */
static void trace_fan_out(const struct ix_request *req, struct ix_response *resp,
                          ix_handler local, struct ix_tree_proc *procs, int nprocs, int perfetto)
{
    char base_text[32];
    long long base = ix_mono_ns();
    snprintf(base_text, sizeof base_text, "%lld", base);
    struct ix_request mine_req = *req;
    char key[] = "tree_t0_ns";
    struct fan fan = {.jobs = calloc((size_t)nprocs, sizeof(struct job)), .n = 0};
    ix_buf target;
    ix_buf_init(&target);
    target_without_pid(req, &target);
    ix_buf_printf(&target, "%stree_t0_ns=%s", strchr(target.data ? target.data : "", '?') ? "&" : "?",
                  base_text);
    if (!fan.jobs || target.oom || mine_req.nparams >= IX_MAX_PARAMS) {
        free(fan.jobs);
        ix_buf_free(&target);
        local(req, resp);
        return;
    }
    mine_req.params[mine_req.nparams++] = (struct ix_param){key, base_text};
    const char *kind = perfetto ? IX_TREE_SPILL_TRACE_PERFETTO : IX_TREE_SPILL_TRACE_JSON;
    int spill = ix_tree_spill_begin(procs, nprocs) == 0;
    pthread_t th[MAX_FETCHERS];
    int nth = fan_start(&fan, procs, nprocs, target.data, NULL, timeout_ms(req), th);
    struct ix_response mine;
    ix_response_init(&mine);
    local(&mine_req, &mine);
    fan_finish(th, nth);
    if (mine.status != 200 || mine.body.oom) { /* a bad query, or a trace already running */
        *resp = mine;
        goto done;
    }
    char self_title[TITLE_MAX];
    title_of(getpid(), self_title);
    struct ix_trace_part *parts = calloc((size_t)fan.n + 1, sizeof *parts);
    char **notes = calloc((size_t)fan.n + 1, sizeof *notes);
    int nparts = 0, nnotes = 0;
    if (!parts || !notes) {
        free(parts);
        free(notes);
        *resp = mine;
        goto done;
    }
    parts[nparts++] = (struct ix_trace_part){mine.body.data, mine.body.len, (int)getpid(),
                                             self_title};
    for (int i = 0; i < fan.n; i++) {
        struct job *j = &fan.jobs[i];
        char note[400];
        int left = 0; /* a child that exited in the window, and the part it left */
        if ((j->rc || j->f.status == 503) && spill) {
            ix_buf got;
            ix_buf_init(&got);
            left = ix_tree_spill_take_as(j->proc.pid, j->proc.start, kind, &got) == 0;
            if (left) {
                ix_buf_free(&j->f.body);
                j->f.body = got;
            } else {
                ix_buf_free(&got);
            }
        }
        if (left)
            snprintf(note, sizeof note, "introspect: pid %d (%s) exited during the window: the "
                     "trace it wrote as it exited is merged", j->proc.pid, j->title);
        else
            missing_note(j, note, sizeof note);
        if (note[0])
            notes[nnotes++] = strdup(note);
        if (!note[0] || left)
            parts[nparts++] = (struct ix_trace_part){j->f.body.data, j->f.body.len, j->proc.pid,
                                                     j->title};
        else if (perfetto) /* named by a process track of its own */
            parts[nparts++] = (struct ix_trace_part){NULL, 0, j->proc.pid, j->title};
    }
    int merged = perfetto ? ix_trace_merge_perfetto(parts, nparts, fan.n + 1, base,
                                                    (const char *const *)notes, nnotes, &resp->body)
                          : ix_trace_merge(parts, nparts, fan.n + 1, base,
                                           (const char *const *)notes, nnotes, &resp->body);
    if (merged <= 0) {
        ix_buf_free(&resp->body);
        ix_buf_init(&resp->body);
        ix_respond_error(resp, 500, "the processes' traces could not be merged");
    } else if (perfetto) {
        resp->status = 200;
        resp->content_type = "application/octet-stream";
        ix_response_header(resp, "Content-Disposition", "attachment; filename=\"trace.pftrace\"");
    } else {
        resp->status = 200;
        resp->content_type = "application/json";
        ix_response_header(resp, "Content-Disposition", "attachment; filename=\"trace.json\"");
    }
    for (int i = 0; i < nnotes; i++)
        free(notes[i]);
    free(notes);
    free(parts);
    ix_response_free(&mine);
done:
    if (spill) {
        for (int i = 0; i < fan.n; i++)
            ix_tree_spill_discard_as(fan.jobs[i].proc.pid, fan.jobs[i].proc.start, kind);
        ix_tree_spill_end();
    }
    for (int i = 0; i < fan.n; i++)
        ix_buf_free(&fan.jobs[i].f.body);
    free(fan.jobs);
    ix_buf_free(&target);
}

int ix_tree_route(const struct ix_request *req, struct ix_response *resp, ix_handler local)
{
    const char *pid = ix_param(req, "pid");
    if (pid && strcmp(pid, "self") && strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        ix_respond_error(resp, 400, "?pid= reaches another process with GET only");
        return 1;
    }
    if (pid)
        return strcmp(pid, "self") == 0 ? 0 : proxy(req, resp, pid);
    if (!ix_tree_is_root())
        return 0;
    if (strcmp(req->path, TRACE_PATH) == 0) {
        /* JSON or Perfetto (any other format: the handler says what is
         * wrong); a request that already names a base is a part. */
        const char *f = ix_param(req, "format");
        int perfetto = f && strcmp(f, "perfetto") == 0;
        if ((f && !perfetto && strcmp(f, "json")) || ix_param(req, "tree_t0_ns") ||
            strcmp(req->method, "GET"))
            return 0;
        struct ix_tree_proc procs[IX_TREE_SLOTS + 1];
        int n = ix_tree_list(procs, IX_TREE_SLOTS + 1);
        if (n <= 1)
            return 0;
        trace_fan_out(req, resp, local, procs, n, perfetto);
        return 1;
    }
    if (!is_merged_path(req->path))
        return 0;
    if (ix_param(req, "base") || ix_param(req, "format"))
        return 0; /* per-process snapshots and other encodings: this process alone */
    const char *d = ix_param(req, "debug");
    long debug = 0;
    if (d && (ix_parse_long(d, &debug) || debug < 0 || debug > 2))
        return 0; /* the handler says what is wrong */
    struct ix_tree_proc procs[IX_TREE_SLOTS + 1];
    int n = ix_tree_list(procs, IX_TREE_SLOTS + 1);
    if (n <= 1)
        return 0;
    fan_out(req, resp, local, procs, n, (int)debug);
    return 1;
}
