/* Stacks for heap samples. libgcc's DWARF unwinder (ix_unwind_here) is
 * complete but costs microseconds per stack on this machine, which at the
 * default rate is most of the sampler's overhead. Frame pointers cost tens
 * of nanoseconds, so samples walk them first. A step is taken only when the
 * frame pointer lies on this thread's stack, 16-aligned, strictly above the
 * previous one (so reads never leave the stack: no fault), and its return
 * address lies in an executable segment of an object loaded when the module
 * started. The walk stops at the first step that does not validate (glibc's
 * start code, built without frame pointers, ends most chains that way) and
 * is kept when it found at least MIN_USER frames beyond the interposer;
 * otherwise (code without frame pointers that reused rbp, a stack the
 * registry does not know, objects loaded later) DWARF unwinds the sample.
 * Code that omits frame pointers but leaves rbp alone loses its caller's
 * frame: the known limit of frame-pointer profiles. INTROSPECT_HEAP_UNWIND=
 * dwarf always uses libgcc. */
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "sampling/heap/internal.h"
#include "stack/unwind.h"

#define MAX_SEGS 512
#define MIN_USER 2

struct seg {
    uintptr_t lo, hi;
};

static struct seg g_segs[MAX_SEGS];
static int g_nsegs;
uint64_t ix_heap_unwind_fallbacks;
int ix_heap_unwind_dwarf;

static int add_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    for (int i = 0; i < info->dlpi_phnum && g_nsegs < MAX_SEGS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
            g_segs[g_nsegs++] = (struct seg){info->dlpi_addr + ph->p_vaddr,
                                             info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
    }
    return 0;
}

/* Sorted by start, for executable()'s binary search (a server maps a few
 * hundred segments; a sampled stack tests every frame). */
static void sort_segments(void)
{
    for (int i = 1; i < g_nsegs; i++) {
        struct seg s = g_segs[i];
        int j = i;
        for (; j > 0 && g_segs[j - 1].lo > s.lo; j--)
            g_segs[j] = g_segs[j - 1];
        g_segs[j] = s;
    }
}

void ix_heap_unwind_init(void)
{
    if (g_nsegs == 0) {
        dl_iterate_phdr(add_segments, NULL);
        sort_segments();
    }
}

void ix_heap_unwind_thread(struct ix_heap_tls *t)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    t->stack_lo = t->stack_hi = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &addr, &size) == 0) {
            t->stack_lo = (uintptr_t)addr;
            t->stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&a);
    }
}

static int in_seg(int i, uintptr_t pc) { return pc - g_segs[i].lo < g_segs[i].hi - g_segs[i].lo; }

/* Is pc in an executable segment? *last is the segment the previous frame
 * was in, tried first (a stack's frames come in runs from one object);
 * else the segment with the greatest start <= pc (they never overlap). */
static int executable(uintptr_t pc, int *last)
{
    if (g_nsegs == 0)
        return 0;
    if (in_seg(*last, pc))
        return 1;
    int lo = 0, hi = g_nsegs; /* the answer is below hi */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (g_segs[mid].lo <= pc)
            lo = mid;
        else
            hi = mid;
    }
    *last = lo;
    return in_seg(lo, pc);
}

IX_HEAP_TEXT __attribute__((noinline)) static int fp_walk(const struct ix_heap_tls *t,
                                                          uintptr_t *pcs, int max)
{
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    int n = 0, user = 0, seg = 0;
    while (n < max && fp >= t->stack_lo && fp <= t->stack_hi - 16 && !(fp & 15)) {
        const uintptr_t *f = (const uintptr_t *)fp;
        uintptr_t next = f[0], pc = f[1];
        if (!executable(pc, &seg))
            break;
        pcs[n++] = pc;
        user += !ix_heap_in_text(pc - 1);
        if (next <= fp)
            break;
        fp = next;
    }
    return user >= MIN_USER ? n : -1;
}

IX_HEAP_TEXT int ix_heap_unwind(struct ix_heap_tls *t, uintptr_t *pcs, int max)
{
    int n = t->stack_hi && !ix_heap_unwind_dwarf ? fp_walk(t, pcs, max) : -1;
    if (n > 0)
        return n;
    __atomic_fetch_add(&ix_heap_unwind_fallbacks, 1, __ATOMIC_RELAXED);
    return ix_unwind_here(pcs, max, 0);
}
