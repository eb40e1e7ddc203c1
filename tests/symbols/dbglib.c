/* A shared library whose debug info is moved to a separate file, so the
 * symbolizer must find it (.gnu_debuglink or the build-id directory). */
#include <stdint.h>

volatile int dbglib_sink = DBGLIB_VARIANT;

/* Static: only .symtab (or the separate debug file) knows its name. */
static __attribute__((noinline)) int dbglib_static_fn(int x)
{
    dbglib_sink += x;
    return dbglib_sink * 3;
}

uintptr_t dbglib_static_addr(void) { return (uintptr_t)&dbglib_static_fn; }

int dbglib_call(int x) { return dbglib_static_fn(x) + 1; }
