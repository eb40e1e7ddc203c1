#include "sampling/threads/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect.h"
#include "sampling/threads/create.h"
#include "util/clock.h"

#define LABEL_MAX 256

int ix_thread_shown_stack(const struct ix_thread_entry *e, const uintptr_t **pcs, uintptr_t *one)
{
    if (e->npcs > 0) {
        *pcs = e->pcs;
        return e->npcs;
    }
    if (e->proc.syscall_pc) {
        *one = e->proc.syscall_pc;
        *pcs = one;
        return 1;
    }
    *pcs = one;
    return 0;
}

/* ---- grouping by stack ---- */

/* Order by (captured or why not, stack); equal means the same group. */
static int stack_cmp(const struct ix_thread_entry *x, const struct ix_thread_entry *y)
{
    int kx = ix_thread_has_stack(x) ? -1 : x->status, ky = ix_thread_has_stack(y) ? -1 : y->status;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    uintptr_t ox, oy;
    const uintptr_t *px, *py;
    int nx = ix_thread_shown_stack(x, &px, &ox), ny = ix_thread_shown_stack(y, &py, &oy);
    if (nx != ny)
        return nx < ny ? -1 : 1;
    for (int i = 0; i < nx; i++)
        if (px[i] != py[i])
            return px[i] < py[i] ? -1 : 1;
    return 0;
}

static int by_stack(const void *a, const void *b, void *ctx)
{
    const struct ix_thread_dump *d = ctx;
    return stack_cmp(&d->threads[*(const int *)a], &d->threads[*(const int *)b]);
}

/* "a*3,b" from the sorted values of a group (NULL-free strings). */
static void summarise(char *out, const char **vals, int n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n;) {
        int k = i;
        while (k < n && strcmp(vals[k], vals[i]) == 0)
            k++;
        char part[80];
        int pl = k - i > 1 ? snprintf(part, sizeof part, "%s%s*%d", len ? "," : "",
                                      vals[i][0] ? vals[i] : "?", k - i)
                           : snprintf(part, sizeof part, "%s%s", len ? "," : "",
                                      vals[i][0] ? vals[i] : "?");
        if (pl < 0 || len + (size_t)pl + 4 >= LABEL_MAX) {
            strcpy(out + len, ",...");
            return;
        }
        memcpy(out + len, part, (size_t)pl + 1);
        len += (size_t)pl;
        i = k;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void add_group(struct ix_profile *p, const struct ix_thread_dump *d, const int *members,
                      int n, const char **scratch)
{
    char names[LABEL_MAX], states[LABEL_MAX];
    for (int i = 0; i < n; i++)
        scratch[i] = d->threads[members[i]].proc.name;
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_str);
    summarise(names, scratch, n);
    for (int i = 0; i < n; i++)
        scratch[i] = ix_thread_state_name(d->threads[members[i]].proc.state);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_str);
    summarise(states, scratch, n);
    const struct ix_thread_entry *e = &d->threads[members[0]];
    struct ix_label labels[3] = {{"thread", names, 0, NULL}, {"state", states, 0, NULL}};
    int nl = 2;
    if (!ix_thread_has_stack(e))
        labels[nl++] = (struct ix_label){"missing", ix_stack_status_text(e->status), 0, NULL};
    uintptr_t one = 0;
    const uintptr_t *pcs;
    int npcs = ix_thread_shown_stack(e, &pcs, &one);
    int64_t v = n;
    ix_profile_add(p, pcs, npcs, &v, labels, nl);
}

static void profile_header(struct ix_profile *p, const struct ix_thread_dump *d)
{
    ix_profile_add_type(p, "goroutine", "count");
    p->period_type = (struct ix_value_type){"goroutine", "count"};
    p->period = 1;
    p->time_nanos = d->time_ns;
    ix_profile_comment(p, "threads: %d, captured in %.1f ms", d->total, d->duration_ns / 1e6);
    if (d->signal_problem[0])
        ix_profile_comment(p, "%s", d->signal_problem);
    if (d->total > d->n)
        ix_profile_comment(p, "%d threads not listed (limit %d)", d->total - d->n, d->n);
}

int ix_threads_profile_grouped(const struct ix_thread_dump *d, struct ix_profile *p)
{
    ix_profile_init(p, "goroutine");
    profile_header(p, d);
    int *order = malloc(((size_t)d->n + 1) * sizeof *order);
    const char **scratch = malloc(((size_t)d->n + 1) * sizeof *scratch);
    if (!order || !scratch) {
        free(order);
        free(scratch);
        return INTROSPECT_ENOMEM;
    }
    for (int i = 0; i < d->n; i++)
        order[i] = i;
    qsort_r(order, (size_t)d->n, sizeof *order, by_stack, (void *)d);
    for (int i = 0; i < d->n;) {
        int k = i + 1;
        while (k < d->n && by_stack(&order[i], &order[k], (void *)d) == 0)
            k++;
        add_group(p, d, order + i, k - i, scratch);
        i = k;
    }
    free(order);
    free(scratch);
    return p->oom ? INTROSPECT_ENOMEM : 0;
}

int ix_threads_profile_per_thread(const struct ix_thread_dump *d, struct ix_profile *p)
{
    ix_profile_init(p, "goroutine");
    profile_header(p, d);
    for (int i = 0; i < d->n; i++) {
        const struct ix_thread_entry *e = &d->threads[i];
        uintptr_t one = 0;
        const uintptr_t *pcs;
        int npcs = ix_thread_shown_stack(e, &pcs, &one);
        struct ix_label l = {"tid", NULL, e->proc.tid, NULL};
        int64_t v = 1;
        ix_profile_add(p, pcs, npcs, &v, &l, 1);
    }
    return p->oom || p->nsamples != (size_t)d->n ? INTROSPECT_ENOMEM : 0;
}

int ix_threadcreate_profile(struct ix_profile *p)
{
    struct ix_stack_table *t = ix_thread_create_stacks();
    uint64_t created, exited, failed, dropped;
    ix_thread_create_counters(&created, &exited, &failed);
    uint32_t n = ix_stack_size(t, &dropped);
    ix_profile_init(p, "threadcreate");
    ix_profile_add_type(p, "threadcreate", "count");
    p->period_type = (struct ix_value_type){"threadcreate", "count"};
    p->period = 1;
    p->time_nanos = ix_real_ns();
    ix_profile_comment(p, "threads created: %llu, exited: %llu, failed creations: %llu",
                       (unsigned long long)created, (unsigned long long)exited,
                       (unsigned long long)failed);
    if (dropped)
        ix_profile_comment(p, "%llu creations not attributed (stack table full)",
                           (unsigned long long)dropped);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t pcs[IX_STACK_MAX_FRAMES];
        uint64_t count = 0;
        int np = ix_stack_get(t, (int)i, pcs, IX_STACK_MAX_FRAMES, &count);
        int64_t v = (int64_t)count;
        ix_profile_add(p, pcs, np, &v, NULL, 0);
    }
    return p->oom ? INTROSPECT_ENOMEM : 0;
}
