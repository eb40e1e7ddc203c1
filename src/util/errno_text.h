/* The text of an errno value, for the module's own threads. Not strerror:
 * glibc's strerror translates through dcgettext, which holds the
 * process-wide locale lock for reading while it looks; a host fork at that
 * moment leaves the lock held in the child for good, and the child's next
 * setlocale() blocks forever (PostgreSQL backends in InitPostgres, while the
 * postmaster's module reported a failed connect to an exited backend).
 * strerrordesc_np (glibc 2.32) reads a constant table and takes no lock. */
#ifndef IX_UTIL_ERRNO_TEXT_H
#define IX_UTIL_ERRNO_TEXT_H

#include <string.h>

static inline const char *ix_errno_text(int e)
{
    const char *s = strerrordesc_np(e);
    return s ? s : "unknown error";
}

#endif
