#!/bin/bash
# Only the public API (introspect_*) is exported from the shared library,
# plus the libc entry points the library deliberately interposes (listed):
# allocation, thread creation and naming, the mutex profile's locks, and the
# descriptor calls whose creating stacks INTROSPECT_FD_STACKS records.
set -euo pipefail
lib="$IX_BUILD_DIR/libintrospect.so"
allowed='^(introspect_[a-z0-9_]+|malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|pthread_create|pthread_mutex_lock|pthread_mutex_unlock|pthread_rwlock_rdlock|pthread_rwlock_wrlock|pthread_rwlock_unlock|pthread_setname_np|socket|socketpair|accept|accept4|pipe|pipe2|eventfd|epoll_create1|open|open64|openat|openat64|dup|close)$'
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then echo "unexpected exports:"; echo "$bad"; exit 1; fi
nm -D --defined-only "$lib" | grep -q ' T introspect_start$'
soname=$(objdump -p "$lib" | awk '/SONAME/{print $2}')
[ "$soname" = libintrospect.so.0 ] || { echo "SONAME is $soname"; exit 1; }
echo ok
