/* A strict JSON syntax checker (RFC 8259) for the fuzzers' oracles. */
#ifndef IX_JSON_CHECK_H
#define IX_JSON_CHECK_H

#include <stddef.h>

/* 1 when s[0..n) is exactly one JSON value (whitespace around allowed). */
int json_check(const char *s, size_t n);

#endif
