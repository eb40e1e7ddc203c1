/* Loaded by test_heap_redirect_dlopen after the module started: its malloc
 * calls go through its own GOT, bound at dlopen time to whichever allocator
 * precedes libintrospect, unless redirect mode rebinds it. */
#include <stdlib.h>
#include <string.h>

static void **g_kept;

__attribute__((noinline)) void dl_leak(int count, size_t size)
{
    g_kept = malloc((size_t)count * sizeof *g_kept);
    for (int i = 0; i < count; i++) {
        g_kept[i] = malloc(size);
        memset(g_kept[i], 1, 64);
    }
}
