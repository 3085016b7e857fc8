/* strcopy.c — bounded string copy (see strcopy.h). */
#include "strcopy.h"

#include <string.h>

size_t pt_str_copy(char *dst, size_t len, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (len) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}
