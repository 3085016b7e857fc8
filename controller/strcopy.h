/*
 * strcopy.h — bounded string copy used across the controller (a truncating
 * strlcpy: always NUL-terminates when len > 0).
 */
#ifndef PT_STRCOPY_H
#define PT_STRCOPY_H

#include <stddef.h>

/* Copies src (NULL counts as "") into dst[len]; returns strlen(src). */
size_t pt_str_copy(char *dst, size_t len, const char *src);

#endif
