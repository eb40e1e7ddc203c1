/* IX_SANITIZED_BUILD: 1 when compiled with ASan or TSan (gcc's
 * __SANITIZE_*__, clang's __has_feature), for the few places that must
 * differ there: defaults (config.c) and thread stacks (http/server.c). */
#ifndef IX_UTIL_SANITIZED_H
#define IX_UTIL_SANITIZED_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||                       \
    __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IX_SANITIZED_BUILD 1
#else
#define IX_SANITIZED_BUILD 0
#endif

#endif
