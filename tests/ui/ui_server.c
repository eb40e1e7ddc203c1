/* A bare host process for the UI tests: starts introspect on an ephemeral
 * loopback port (INTROSPECT_ADDR overrides), prints "port N", and runs until
 * its stdin closes, so the test driver never leaves it behind. */
#include <introspect.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    introspect_config cfg;
    introspect_config_init(&cfg);
    cfg.addr = "127.0.0.1:0";
    int rc = introspect_start(&cfg);
    if (rc) {
        fprintf(stderr, "ui_server: %s\n", introspect_strerror(rc));
        return 1;
    }
    printf("port %d\n", introspect_port());
    fflush(stdout);
    char buf[256];
    while (read(0, buf, sizeof buf) > 0)
        ;
    introspect_stop();
    return 0;
}
