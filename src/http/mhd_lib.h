#ifndef IX_HTTP_MHD_LIB_H
#define IX_HTTP_MHD_LIB_H

/* libmicrohttpd, loaded when the server first starts (issue 22).
 *
 * Linking it made every process that merely loads the library pay for it:
 * libmicrohttpd pulls GnuTLS and about ten more libraries whose loading and
 * constructors cost ~16 ms of CPU per process, even in processes where the
 * module never starts (INTROSPECT_PROGRAM not matching, wrappers and
 * subprocesses of a preloaded host). It is dlopen'ed RTLD_LOCAL at the first
 * connection instead (at the start with TLS; http/server.c) and stays loaded (never dlclose'd: its threads and TLS state
 * may outlive a stop). <microhttpd.h> still gives the types and constants;
 * the calls go through this table, typed from the header's own prototypes,
 * so a mismatch is a compile error. */

#include <microhttpd.h>
#include <stddef.h>

struct ix_mhd {
    __typeof__(MHD_add_connection) *add_connection;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_destroy_response) *destroy_response;
    __typeof__(MHD_get_connection_info) *get_connection_info;
    __typeof__(MHD_get_connection_values) *get_connection_values;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_is_feature_supported) *is_feature_supported;
    __typeof__(MHD_lookup_connection_value) *lookup_connection_value;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_resume_connection) *resume_connection;
    __typeof__(MHD_start_daemon) *start_daemon; /* variadic, called as such */
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_suspend_connection) *suspend_connection;
};

/* The table; valid once ix_mhd_load() has returned 0. */
extern struct ix_mhd ix_mhd;

/* Loads libmicrohttpd.so.12 and resolves the table, once (thread-safe).
 * Returns 0, or INTROSPECT_ELIBRARY with why (dlerror's text) filled. */
int ix_mhd_load(char *why, size_t whylen);

#endif
