/* A plain program that knows nothing of introspect: leaks from leak_memory
 * amid churn, then waits (for the zero-code LD_PRELOAD and valgrind tests).
 * argv[1]: seconds to wait after the work (default 30); argv[2]: scale. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "workload.h"

int main(int argc, char **argv)
{
    int wait_s = argc > 1 ? atoi(argv[1]) : 30;
    int scale = argc > 2 ? atoi(argv[2]) : 16;
    for (int i = 0; i < scale; i++) {
        leak_memory(256, 4096);
        churn(20000, (unsigned)i);
    }
    printf("leaked %zu\n", leaked_bytes(0));
    fflush(stdout);
    for (int i = 0; i < wait_s * 10; i++)
        usleep(100000);
    leak_release();
    return 0;
}
