#include "http/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "host/release.h"
#include "host/threads.h"
#include "util/clock.h"
#include "introspect.h"

struct job {
    ix_job_fn fn;
    void *arg;
    struct job *next;
};

struct ix_workers {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* a job was queued, or stop */
    pthread_cond_t idle;  /* a job finished */
    struct job *head, *tail;
    unsigned nthreads, nidle, max;
    unsigned pending; /* queued + running */
    unsigned queued;  /* waiting for a worker */
    int stop;
    size_t stack_size;
    pthread_t *tids;
};

/* A worker keeps the stack pages its deepest request touched (~0.8 MB when
 * it symbolized a profile); once it has waited this long for work they go
 * back to the kernel, once per idle period. */
#define STACK_IDLE_NS (30 * 1000000000LL)

static void idle_wait(struct ix_workers *w, int *stack_released)
{
    if (*stack_released) {
        pthread_cond_wait(&w->work, &w->mu);
        return;
    }
    long long until_ns = ix_real_ns() + STACK_IDLE_NS;
    struct timespec until = {(time_t)(until_ns / 1000000000LL), (long)(until_ns % 1000000000LL)};
    if (pthread_cond_timedwait(&w->work, &w->mu, &until) == ETIMEDOUT) {
        ix_release_thread_stack();
        *stack_released = 1;
    }
}

static void *worker_main(void *arg)
{
    struct ix_workers *w = arg;
    int stack_released = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) {
            w->nidle++;
            idle_wait(w, &stack_released);
            w->nidle--;
        }
        stack_released = 0;
        if (!w->head)
            break; /* stopping and nothing left */
        struct job *j = w->head;
        w->queued--;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&w->mu);
        w->pending--;
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct ix_workers *ix_workers_new(unsigned max_threads, size_t stack_size)
{
    struct ix_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->max = max_threads ? max_threads : 1;
    w->stack_size = stack_size;
    w->tids = calloc(w->max, sizeof *w->tids);
    if (!w->tids) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    return w;
}

/* Called with the lock held: add a thread when the queued jobs outnumber
 * the idle workers. (An idle worker that was signalled still counts as idle
 * until it wakes, so "no idle worker" alone would leave a second job of a
 * quick pair queued behind a long first one.) */
static void grow_locked(struct ix_workers *w)
{
    if (w->queued <= w->nidle || w->nthreads >= w->max)
        return;
    if (ix_module_thread_create(&w->tids[w->nthreads], w->stack_size, worker_main, w,
                                "introspect-work") == 0)
        w->nthreads++;
}

int ix_workers_submit(struct ix_workers *w, ix_job_fn fn, void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return INTROSPECT_ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        free(j);
        return INTROSPECT_ENOTSTARTED;
    }
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->pending++;
    w->queued++;
    grow_locked(w);
    if (w->nthreads == 0) { /* no thread at all: nobody would ever run it */
        w->head = w->tail = NULL;
        w->pending--;
        w->queued--;
        pthread_mutex_unlock(&w->mu);
        free(j);
        return INTROSPECT_ESYS;
    }
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void ix_workers_drain(struct ix_workers *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->pending)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void ix_workers_free(struct ix_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->work);
    unsigned n = w->nthreads;
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(w->tids[i], NULL);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w->tids);
    free(w);
}

unsigned ix_workers_threads(struct ix_workers *w)
{
    pthread_mutex_lock(&w->mu);
    unsigned n = w->nthreads;
    pthread_mutex_unlock(&w->mu);
    return n;
}
