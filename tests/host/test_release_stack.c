/* host/release.c's ix_release_thread_stack, which an idle HTTP worker calls
 * (http/workers.c): the stack pages a deep request touched go back to the
 * kernel, the 64 KB below the caller's frame and everything above it stay,
 * and the thread goes on using its stack as before. Residency is read with
 * mincore(2) over the thread's own stack mapping. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "host/release.h"

#define STACK_SIZE (8u << 20)
#define FRAME_BYTES (64 * 1024)
#define DEPTH 48 /* 48 x 64 KB = 3 MB touched below the caller */

/* Deep, as a worker symbolizing a profile is: each level writes its 64 KB. */
static __attribute__((noinline)) unsigned deep(int depth)
{
    volatile unsigned char buf[FRAME_BYTES];
    memset((void *)buf, depth, sizeof buf);
    unsigned sum = buf[depth * 997 % FRAME_BYTES];
    if (depth > 0)
        sum += deep(depth - 1);
    return sum + buf[FRAME_BYTES - 1];
}

/* Resident bytes of [lo, hi) (page-aligned). */
static size_t resident(uintptr_t lo, uintptr_t hi)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (hi - lo) / page, count = 0;
    unsigned char *v = malloc(n);
    ASSERT(v);
    ASSERT_EQ(mincore((void *)lo, hi - lo, v), 0);
    for (size_t i = 0; i < n; i++)
        count += v[i] & 1;
    free(v);
    return count * page;
}

struct result {
    size_t before, after, near_before, near_after;
    unsigned first, again;
    int kept;
};

static void *worker(void *arg)
{
    struct result *r = arg;
    char mine[256]; /* this frame's data: must survive */
    memset(mine, 0x5a, sizeof mine);
    pthread_attr_t a;
    ASSERT_EQ(pthread_getattr_np(pthread_self(), &a), 0);
    void *lo;
    size_t size;
    ASSERT_EQ(pthread_attr_getstack(&a, &lo, &size), 0);
    pthread_attr_destroy(&a);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t base = ((uintptr_t)lo + page - 1) & ~(page - 1);
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0) & ~(page - 1);
    /* Within the 64 KB the release keeps below its own (lower) frame. */
    uintptr_t near = frame - 56 * 1024;
    r->first = deep(DEPTH);
    r->before = resident(base, near);
    r->near_before = resident(near, frame);
    ix_release_thread_stack();
    r->after = resident(base, near);
    r->near_after = resident(near, frame);
    r->kept = 1;
    for (size_t i = 0; i < sizeof mine; i++)
        r->kept &= mine[i] == 0x5a;
    r->again = deep(DEPTH); /* the released pages come back zeroed, on demand */
    return NULL;
}

static void run(struct result *r)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, STACK_SIZE);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, &a, worker, r), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&a);
}

TEST(deep_stack_pages_go_back_and_the_thread_goes_on)
{
    struct result r = {0};
    run(&r);
    printf("below the kept 56 KB: %zu kB resident before, %zu kB after; kept part %zu -> %zu kB\n",
           r.before >> 10, r.after >> 10, r.near_before >> 10, r.near_after >> 10);
    ASSERT(r.before >= (size_t)(DEPTH - 2) * FRAME_BYTES); /* the deep call was resident */
    ASSERT(r.after <= r.before / 16);                      /* and went back */
    ASSERT_EQ(r.near_after, r.near_before);                /* the 56 KB below the frame stayed */
    ASSERT(r.kept);                                        /* the caller's own frame is intact */
    ASSERT_EQ(r.again, r.first);                           /* and the stack works as before */
}

static const struct ix_test tests[] = {
    TEST_ENTRY(deep_stack_pages_go_back_and_the_thread_goes_on),
    TEST_LIST_END,
};

int main(int argc, char **argv) { return ix_run_tests(argc, argv, tests); }
