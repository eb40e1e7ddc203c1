/* The public entry points of the module as a whole: introspect_start/stop/port,
 * error strings and the last start error, the version, and the LD_PRELOAD
 * constructor of zero-code mode. Also the process-wide running state of
 * runtime.h (running config, stopping flag, cancellable waits). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "host/program.h"
#include "host/threads.h"
#include "http/server.h"
#include "introspect.h"
#include "modules.h"
#include "runtime.h"
#include "sampling/threads/create.h"
#include "stack/unwind_tables.h"
#include "symbolize/objects.h"
#include "tree/route.h"
#include "tree/table.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ix_config g_cfg;
static const struct ix_config *_Atomic g_running;
static struct ix_server *g_server;
static int g_port = -1;
static atomic_int g_stopping;
static atomic_int g_exit_holds, g_exiting;

const struct ix_config *ix_running_config(void) { return atomic_load(&g_running); }

int ix_stopping(void) { return atomic_load(&g_stopping); }

int ix_exiting(void) { return atomic_load(&g_exiting); }

void ix_exit_hold(void) { atomic_fetch_add(&g_exit_holds, 1); }

void ix_exit_release(void) { atomic_fetch_sub(&g_exit_holds, 1); }

/* exit(3) (registered with atexit at the first start; inherited by forked
 * children): when a capture holds the exit, wake it and give its thread up
 * to IX_EXIT_HOLD_MS to finish (tree/spill.h). This thread takes no lock and
 * calls nothing of the module: whatever the vanishing threads held, it
 * cannot deadlock here, and it never waits longer than the bound. */
static void exit_hook(void)
{
    if (atomic_load(&g_exit_holds) <= 0)
        return;
    atomic_store(&g_exiting, 1);
    long long end = ix_mono_ns() + IX_EXIT_HOLD_MS * 1000000LL;
    while (atomic_load(&g_exit_holds) > 0 && ix_mono_ns() < end) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

enum ix_wait ix_wait_ms(const struct ix_cancel *c, long ms)
{
    long long end = ix_mono_ns() + (long long)ms * 1000000LL;
    for (;;) {
        if (ix_stopping())
            return IX_WAIT_STOPPING;
        if (ix_exiting())
            return IX_WAIT_EXITING;
        if (ix_cancelled(c))
            return IX_WAIT_CANCELLED;
        long long left = end - ix_mono_ns();
        if (left <= 0)
            return IX_WAIT_DONE;
        struct timespec ts = {0, left > 50000000LL ? 50000000L : (long)left};
        nanosleep(&ts, NULL);
    }
}

/* After fork(2), in the child: only the forking thread exists. The module's
 * threads are gone, so the child closes the listener and the connections
 * (it must never answer on, or keep open, the parent's port), and every
 * module forgets what those threads were doing; the module is then "not
 * started" in the child, which may start its own (introspect_start). The
 * memory the gone threads owned is left, never freed under them. */
static void *child_start(void *arg);
static int g_spawn_starter; /* set by forked_child in a tree's child */

static void forked_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    g_lock = fresh; /* a thread of the parent may have held it */
    atomic_store(&g_exit_holds, 0); /* the parent's captures are not this child's */
    atomic_store(&g_exiting, 0);
    if (!atomic_load(&g_running))
        return;
    int tree = g_cfg.tree && ix_tree_is_member();
    ix_server_forked(g_server);
    ix_modules_forked();
    ix_unwind_tables_forked(); /* locks a profile or symbol lookup held at the fork */
    ix_symobj_forked();
    g_server = NULL;
    g_port = -1;
    atomic_store(&g_running, NULL);
    atomic_store(&g_stopping, 0);
    g_spawn_starter = tree;
}

/* A child of a tree starts its own instance later, from a thread of its own
 * (child_start): the only module work inside fork is creating that thread.
 * This handler is registered after every module's (child handlers run in
 * registration order), so every module is whole again when the thread is
 * created. The thread has the default stack size: with 64 KiB (the static
 * TLS of the preloaded libraries comes out of it) it overflowed, and the
 * child crashed in its next pthread_create (test_host_fork). */
static void spawn_starter(void)
{
    if (!g_spawn_starter)
        return;
    g_spawn_starter = 0;
    pthread_t t;
    if (ix_module_thread_create(&t, 0, child_start, NULL, "introspect-fork") == 0)
        pthread_detach(t);
}

static void atfork_once(void)
{
    pthread_atfork(NULL, NULL, forked_child);
    atexit(exit_hook);
}
static void atfork_last(void) { pthread_atfork(NULL, NULL, spawn_starter); }

static void report_start_error(const char *why)
{
    /* Only in zero-code mode: the host cannot see a return code there. */
    fprintf(stderr, "introspect: not started: %s\n", why);
}

static void set_last_error(int rc, const char *why);

/* Modules and server on g_cfg (loaded). On failure nothing runs. */
static int start_instance_locked(char *why, size_t whylen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, atfork_once);
    atomic_store(&g_stopping, 0);
    atomic_store(&g_running, &g_cfg); /* before the first request can arrive */
    ix_router_set_hook(ix_tree_route);
    int rc = ix_modules_start(&g_cfg, why, whylen);
    if (rc == 0) {
        ix_thread_create_fork_safe(); /* after the heap sampler's atfork handlers */
        static pthread_once_t last = PTHREAD_ONCE_INIT;
        pthread_once(&last, atfork_last); /* after every module's */
        rc = ix_server_start(&g_cfg, &g_server, &g_port, why, whylen);
        if (rc)
            ix_modules_stop();
    }
    if (rc) {
        atomic_store(&g_running, NULL);
        g_port = -1;
    }
    return rc;
}

static int start_locked(const introspect_config *cfg, char *why, size_t whylen)
{
    if (atomic_load(&g_running))
        return INTROSPECT_EALREADY;
    int rc = ix_config_load(&g_cfg, cfg, why, whylen);
    if (rc)
        return rc;
    rc = start_instance_locked(why, whylen);
    if (rc == 0 && g_cfg.tree && !ix_tree_is_member())
        ix_tree_root_init(g_port); /* before the host forks its workers */
    if (rc)
        ix_config_free(&g_cfg);
    return rc;
}

/* A forked child of a tree (tree/table.h): its own instance, on an
 * ephemeral loopback port, with the parent's configuration otherwise (its
 * token above all). Started from a thread the atfork handler created, after
 * tree_delay_ms: a child that execs or exits at once costs a sleeping
 * thread and nothing else, and no module code runs inside fork, where the
 * host may have been in a signal handler. The root reaches it through the
 * table; it is never reachable from further than loopback, and its
 * listener does not speak TLS (the root terminates TLS for the tree). */
static void *child_start(void *arg)
{
    (void)arg;
    unsigned ms = g_cfg.tree_delay_ms;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    char why[256] = "";
    pthread_mutex_lock(&g_lock);
    if (atomic_load(&g_running) || !ix_tree_is_member()) { /* the host started one itself */
        pthread_mutex_unlock(&g_lock);
        return NULL;
    }
    /* g_cfg is the parent's, copied by fork and never freed in the child. */
    free(g_cfg.addr);
    g_cfg.addr = strdup("127.0.0.1:0");
    ix_parse_addr("127.0.0.1:0", &g_cfg.sa, &g_cfg.salen, &g_cfg.loopback);
    free(g_cfg.tls_cert);
    free(g_cfg.tls_key);
    g_cfg.tls_cert = g_cfg.tls_key = NULL;
    int rc = g_cfg.addr ? start_instance_locked(why, sizeof why) : INTROSPECT_ENOMEM;
    if (rc == 0 && ix_tree_register(g_port) != 0)
        snprintf(why, sizeof why, "the process table is full (%d slots)", IX_TREE_SLOTS);
    set_last_error(rc, why);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static char g_last_error[256];

/* Remember why a start failed (called with g_lock held). */
static void set_last_error(int rc, const char *why)
{
    snprintf(g_last_error, sizeof g_last_error, "%s",
             rc == 0 ? "" : why[0] ? why : introspect_strerror(rc));
}

const char *introspect_last_error(void) { return g_last_error; }

int introspect_start(const introspect_config *cfg)
{
    char why[256] = "";
    ix_module_enter(NULL); /* the host's thread runs module code: not its allocations */
    pthread_mutex_lock(&g_lock);
    int rc = start_locked(cfg, why, sizeof why);
    if (rc != INTROSPECT_EALREADY)
        set_last_error(rc, why);
    pthread_mutex_unlock(&g_lock);
    ix_module_leave();
    return rc;
}

int introspect_stop(void)
{
    ix_module_enter(NULL);
    pthread_mutex_lock(&g_lock);
    if (!atomic_load(&g_running)) {
        pthread_mutex_unlock(&g_lock);
        ix_module_leave();
        return INTROSPECT_ENOTSTARTED;
    }
    atomic_store(&g_stopping, 1); /* long handlers see this and return */
    ix_tree_unregister();
    ix_server_stop(g_server);
    ix_modules_stop();
    g_server = NULL;
    atomic_store(&g_running, NULL);
    ix_config_free(&g_cfg);
    g_port = -1;
    pthread_mutex_unlock(&g_lock);
    ix_module_leave();
    return 0;
}

int introspect_port(void)
{
    pthread_mutex_lock(&g_lock);
    int p = atomic_load(&g_running) ? g_port : INTROSPECT_ENOTSTARTED;
    pthread_mutex_unlock(&g_lock);
    return p;
}

const char *introspect_version(void) { return INTROSPECT_VERSION_STRING; }

const char *introspect_strerror(int code)
{
    switch (code) {
    case INTROSPECT_OK: return "success";
    case INTROSPECT_EINVAL: return "invalid argument or configuration value";
    case INTROSPECT_ENOMEM: return "out of memory";
    case INTROSPECT_EADDR: return "address could not be parsed (want host:port, numeric host)";
    case INTROSPECT_EADDRINUSE: return "address already in use";
    case INTROSPECT_EBIND: return "could not bind or listen on the address";
    case INTROSPECT_EALREADY: return "introspect is already started";
    case INTROSPECT_ENOTSTARTED: return "introspect is not started";
    case INTROSPECT_EEXIST: return "a metric or variable with that name already exists";
    case INTROSPECT_ENAME: return "invalid metric, label or variable name";
    case INTROSPECT_ELABELS: return "wrong number of label values";
    case INTROSPECT_ELIMIT: return "a configured limit was reached";
    case INTROSPECT_EBUSY: return "the resource is busy";
    case INTROSPECT_ESIGNAL: return "the profiling signal already has another handler";
    case INTROSPECT_ESYS: return "a system call failed";
    case INTROSPECT_ETOKEN: return "a non-loopback address requires a token";
    case INTROSPECT_ETYPE: return "operation does not fit the handle's type";
    case INTROSPECT_ELIBRARY: return "a runtime library could not be loaded";
    default: return "unknown error code";
    }
}

/* Zero-code mode has no caller to ask introspect_port(): say where we are. */
static void announce(int port)
{
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr_storage *sa = &g_cfg.sa;
    if (sa->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
    int v6 = sa->ss_family == AF_INET6;
    fprintf(stderr, "introspect: serving %s://%s%s%s:%d/debug/pprof/ (pid %d)\n",
            g_cfg.tls_cert ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port,
            (int)getpid());
}

/* Zero-code mode: started only when preloaded and INTROSPECT_ADDR is set, so
 * a program that links the library and calls introspect_start() itself is not
 * started twice, and an absent variable means nothing at all happens. */
static int preloaded(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "libintrospect");
}

/* The port is taken: most often by the module in a parent that is about to
 * exit (a launcher, `pg_ctl start`) or in the previous instance of a
 * restarting server. Keep trying from a thread of our own, with backoff,
 * for RETRY_MS, without delaying the host's start. */
#define RETRY_MS 10000

static void *retry_start(void *arg)
{
    (void)arg;
    char why[256] = "";
    int rc = INTROSPECT_EADDRINUSE, port = -1;
    long waited = 0, step = 50;
    while (rc == INTROSPECT_EADDRINUSE && waited < RETRY_MS) {
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        waited += step;
        step = step * 2 > 500 ? 500 : step * 2;
        why[0] = '\0';
        pthread_mutex_lock(&g_lock);
        rc = start_locked(NULL, why, sizeof why);
        if (rc != INTROSPECT_EALREADY)
            set_last_error(rc, why);
        port = g_port;
        pthread_mutex_unlock(&g_lock);
    }
    if (rc == 0)
        announce(port);
    else if (rc != INTROSPECT_EALREADY)
        report_start_error(why[0] ? why : introspect_strerror(rc));
    return NULL;
}

__attribute__((constructor)) static void ix_preload_start(void)
{
    const char *addr = getenv("INTROSPECT_ADDR");
    if (!addr || !*addr || !preloaded())
        return;
    ix_module_enter(NULL);
    char name[256];
    if (!ix_program_runs_module(name, sizeof name)) { /* a wrapper: the program it runs serves */
        ix_module_leave();
        return;
    }
    char why[256] = "";
    pthread_mutex_lock(&g_lock);
    int rc = start_locked(NULL, why, sizeof why);
    set_last_error(rc, why);
    int port = g_port;
    pthread_mutex_unlock(&g_lock);
    pthread_t t;
    if (rc == INTROSPECT_EADDRINUSE &&
        ix_module_thread_create(&t, 0, retry_start, NULL, "introspect-bind") == 0)
        pthread_detach(t);
    else if (rc)
        report_start_error(why[0] ? why : introspect_strerror(rc));
    else
        announce(port);
    ix_module_leave();
}
