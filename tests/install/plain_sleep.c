/* A plain program that knows nothing of introspect: sleeps argv[1] seconds.
 * Used for LD_PRELOAD tests in sanitizer builds, where Debian's coreutils
 * deadlock at exit under ASan (p11-kit's destructor vs setlocale's lock,
 * reproducible with libasan + libp11-kit preloaded into `sleep`, without us). */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 30);
    return 0;
}
