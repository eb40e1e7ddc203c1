#include <introspect.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int rc = introspect_start(NULL);
    if (rc) {
        fprintf(stderr, "introspect: %s\n", introspect_strerror(rc));
        return 1;
    }
    for (;;)
        pause();
}
