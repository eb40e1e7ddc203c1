/* Hand memory the module freed back to the kernel, whichever allocator the
 * host runs, without making the host pay for it. The module allocates
 * through the host's malloc, and a parse session freed at the end of a
 * request (tens of MB for libc's debug file) stays resident in the
 * allocator's free lists until it is told otherwise.
 *
 *   jemalloc: the module's threads allocate from an arena of their own
 *             (arenas.create, bound by thread.arena as each starts), so
 *             purging that one arena returns the module's pages and never
 *             the host's. Cheap: done after every request that parsed.
 *   glibc:    malloc_trim(0) walks every arena's free chunks under its lock
 *             (200 ms for a host with 1,000,000 free chunks), and tcmalloc's
 *             MallocExtension_ReleaseFreeMemory returns the whole page heap:
 *             both only when the module goes idle, and not at all in a host
 *             over IX_RELEASE_MAX_RSS resident, where the walk costs most
 *             and the module's few MB matter least.
 *
 * The allocators' functions are found with dlsym, never linked; jemalloc's
 * only count if jemalloc serves malloc (a host may load it and still run on
 * tcmalloc preloaded first). */
#ifndef IX_HOST_RELEASE_H
#define IX_HOST_RELEASE_H

#define IX_RELEASE_MAX_RSS ((size_t)256 << 20)

/* jemalloc's mallctl if jemalloc serves this process's malloc (asked of
 * jemalloc: its count of the thread's allocated bytes moves with a malloc),
 * else NULL. Probed once; not in a signal handler. */
void *ix_release_jemalloc_ctl(void);
/* On the thread that creates a module thread (not in a signal handler):
 * find the allocator's control and, under jemalloc, create the module's
 * arena, once. */
void ix_release_prepare(void);
/* A module thread's first code: allocate from the module's arena from now
 * on (jemalloc; nothing elsewhere). No dlsym, no lock. */
void ix_release_bind_thread(void);
/* After a request that closed a parse session, on the module thread that
 * ran it: the module's own free pages only (jemalloc's module arena and this
 * thread's cache). Nothing under glibc or tcmalloc. */
void ix_release_module_memory(void);
/* When the module goes idle (the symbolizer's flush, the unwind tables'
 * drop): the module's pages, then, in a host under IX_RELEASE_MAX_RSS, the
 * allocator's free pages (malloc_trim, tcmalloc's ReleaseFreeMemory). */
void ix_release_free_memory(void);
/* The module's jemalloc arena, or -1 (another allocator, or none made). */
int ix_release_module_arena(void);
/* The calling thread's stack pages below its current frame (what its
 * deepest call touched: symbolizing, unwinding) go back to the kernel; they
 * read as zeros when touched again. For a module thread about to idle. */
void ix_release_thread_stack(void);

#endif
