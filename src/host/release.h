/* Hand memory the module freed back to the kernel, whichever allocator the
 * host runs: the module allocates through the host's malloc, and a parse
 * session freed at the end of a request (tens of MB for libc's debug file)
 * stays resident in the allocator's free lists until it is told otherwise.
 *   glibc:    malloc_trim(0) (every arena; free pages inside them too).
 *   jemalloc: mallctl "arena.<all>.purge": its dirty pages otherwise decay
 *             only as the process allocates, and an idle server does not.
 *   tcmalloc: MallocExtension_ReleaseFreeMemory.
 * Found with dlsym, never linked. Called on module threads only: after a
 * request that closed a parse session, at the symbolizer's idle flush and
 * when the unwind tables are freed. The host's own free pages are returned
 * too, as the allocator's decay would have returned them later. */
#ifndef IX_HOST_RELEASE_H
#define IX_HOST_RELEASE_H

void ix_release_free_memory(void);
/* The calling thread's stack pages below its current frame (what its
 * deepest call touched: symbolizing, unwinding) go back to the kernel; they
 * read as zeros when touched again. For a module thread about to idle. */
void ix_release_thread_stack(void);

#endif
