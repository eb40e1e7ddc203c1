/* expvar-style published variables. Registration takes a lock (rare);
 * integer and float updates are lock-free atomics; strings are swapped
 * under the variable's own mutex. Variables live for the process. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"
#include "registry/registry.h"
#include "util/atomic_double.h"

enum vkind { V_INT, V_FLOAT, V_STRING, V_FUNC };

struct introspect_var {
    enum vkind kind;
    char *name;
    _Atomic int64_t i;
    _Atomic uint64_t fbits;
    pthread_mutex_t lock;
    char *str;
    introspect_var_fn fn;
    void *arg;
    struct introspect_var *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct introspect_var *g_vars;

/* Keys the module writes itself. */
static const char *const reserved[] = {"cmdline", "memstats", "metrics", "pools", "tasks",
                                       "threads", "allocator", "cpu", "introspect"};

int ix_vars_reserved(const char *name)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return 1;
    return 0;
}

static int valid_var_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 200)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int publish(enum vkind k, const char *name, introspect_var_fn fn, void *arg,
                   introspect_var **out)
{
    if (!out)
        return INTROSPECT_EINVAL;
    *out = NULL;
    if (!valid_var_name(name))
        return INTROSPECT_ENAME;
    if (ix_vars_reserved(name))
        return INTROSPECT_EEXIST;
    struct introspect_var *v = calloc(1, sizeof *v);
    if (!v || !(v->name = strdup(name))) {
        free(v);
        return INTROSPECT_ENOMEM;
    }
    v->kind = k;
    v->fn = fn;
    v->arg = arg;
    pthread_mutex_init(&v->lock, NULL);
    pthread_mutex_lock(&g_lock);
    for (struct introspect_var *o = g_vars; o; o = o->next)
        if (strcmp(o->name, name) == 0) {
            pthread_mutex_unlock(&g_lock);
            pthread_mutex_destroy(&v->lock);
            free(v->name);
            free(v);
            return INTROSPECT_EEXIST;
        }
    v->next = g_vars;
    g_vars = v;
    pthread_mutex_unlock(&g_lock);
    *out = v;
    return 0;
}

int introspect_var_int(const char *name, introspect_var **out) { return publish(V_INT, name, NULL, NULL, out); }
int introspect_var_float(const char *name, introspect_var **out) { return publish(V_FLOAT, name, NULL, NULL, out); }
int introspect_var_string(const char *name, introspect_var **out) { return publish(V_STRING, name, NULL, NULL, out); }

int introspect_var_func(const char *name, introspect_var_fn fn, void *arg, introspect_var **out)
{
    if (!fn)
        return INTROSPECT_EINVAL;
    return publish(V_FUNC, name, fn, arg, out);
}

int introspect_var_set_int(introspect_var *v, int64_t value)
{
    if (!v)
        return INTROSPECT_EINVAL;
    if (v->kind != V_INT)
        return INTROSPECT_ETYPE;
    atomic_store_explicit(&v->i, value, memory_order_relaxed);
    return 0;
}

int introspect_var_add_int(introspect_var *v, int64_t delta)
{
    if (!v)
        return INTROSPECT_EINVAL;
    if (v->kind != V_INT)
        return INTROSPECT_ETYPE;
    atomic_fetch_add_explicit(&v->i, delta, memory_order_relaxed);
    return 0;
}

int introspect_var_set_float(introspect_var *v, double value)
{
    if (!v)
        return INTROSPECT_EINVAL;
    if (v->kind != V_FLOAT)
        return INTROSPECT_ETYPE;
    atomic_store_explicit(&v->fbits, ix_to_bits(value), memory_order_relaxed);
    return 0;
}

int introspect_var_add_float(introspect_var *v, double delta)
{
    if (!v)
        return INTROSPECT_EINVAL;
    if (v->kind != V_FLOAT)
        return INTROSPECT_ETYPE;
    ix_atomic_add_double(&v->fbits, delta);
    return 0;
}

int introspect_var_set_string(introspect_var *v, const char *s)
{
    if (!v || !s)
        return INTROSPECT_EINVAL;
    if (v->kind != V_STRING)
        return INTROSPECT_ETYPE;
    char *copy = strdup(s);
    if (!copy)
        return INTROSPECT_ENOMEM;
    pthread_mutex_lock(&v->lock);
    char *old = v->str;
    v->str = copy;
    pthread_mutex_unlock(&v->lock);
    free(old);
    return 0;
}

/* Run the callback into a scratch writer; only a complete value is copied. */
static void write_func(introspect_json *j, struct introspect_var *v)
{
    ix_buf tmp;
    ix_buf_init(&tmp);
    introspect_json sub;
    ix_json_init(&sub, &tmp);
    int rc = v->fn(&sub, v->arg);
    if (rc >= 0 && ix_json_complete(&sub))
        ix_json_raw(j, tmp.data, tmp.len);
    else
        introspect_json_null(j);
    ix_buf_free(&tmp);
}

void ix_var_write(introspect_json *j, struct introspect_var *v)
{
    switch (v->kind) {
    case V_INT:
        introspect_json_int(j, atomic_load(&v->i));
        break;
    case V_FLOAT:
        introspect_json_float(j, ix_from_bits(atomic_load(&v->fbits)));
        break;
    case V_STRING:
        pthread_mutex_lock(&v->lock);
        introspect_json_string(j, v->str ? v->str : "");
        pthread_mutex_unlock(&v->lock);
        break;
    case V_FUNC:
        write_func(j, v);
        break;
    }
}

void ix_vars_each(void (*fn)(void *ctx, const char *key, struct introspect_var *v), void *ctx)
{
    pthread_mutex_lock(&g_lock);
    struct introspect_var *head = g_vars;
    pthread_mutex_unlock(&g_lock);
    /* Prepended only and never freed: a snapshot of the head is a stable list. */
    for (struct introspect_var *v = head; v; v = v->next)
        fn(ctx, v->name, v);
}
