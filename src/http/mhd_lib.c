#include "http/mhd_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "introspect.h"

#define IX_MHD_SONAME "libmicrohttpd.so.12"

struct ix_mhd ix_mhd;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_why[256];

/* Each entry: the table slot and the symbol to put there. */
#define SLOT(field, sym) {(void **)&ix_mhd.field, #sym}

static void load(void)
{
    static const struct {
        void **slot;
        const char *sym;
    } syms[] = {
        SLOT(add_connection, MHD_add_connection),
        SLOT(add_response_header, MHD_add_response_header),
        SLOT(create_response_from_buffer, MHD_create_response_from_buffer),
        SLOT(destroy_response, MHD_destroy_response),
        SLOT(get_connection_info, MHD_get_connection_info),
        SLOT(get_connection_values, MHD_get_connection_values),
        SLOT(get_daemon_info, MHD_get_daemon_info),
        SLOT(is_feature_supported, MHD_is_feature_supported),
        SLOT(lookup_connection_value, MHD_lookup_connection_value),
        SLOT(queue_response, MHD_queue_response),
        SLOT(resume_connection, MHD_resume_connection),
        SLOT(start_daemon, MHD_start_daemon),
        SLOT(stop_daemon, MHD_stop_daemon),
        SLOT(suspend_connection, MHD_suspend_connection),
    };
    void *h = dlopen(IX_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(load_why, sizeof load_why, "cannot load %s (install libmicrohttpd12): %s",
                 IX_MHD_SONAME, e ? e : "unknown error");
        load_rc = INTROSPECT_ELIBRARY;
        return;
    }
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        dlerror();
        *syms[i].slot = dlsym(h, syms[i].sym);
        if (!*syms[i].slot) {
            snprintf(load_why, sizeof load_why, "%s has no %s (too old a libmicrohttpd)",
                     IX_MHD_SONAME, syms[i].sym);
            load_rc = INTROSPECT_ELIBRARY;
            return; /* h stays open: harmless, and dlclose could race a reader */
        }
    }
}

int ix_mhd_load(char *why, size_t whylen)
{
    pthread_once(&once, load);
    if (load_rc && why && whylen)
        snprintf(why, whylen, "%s", load_why);
    return load_rc;
}
