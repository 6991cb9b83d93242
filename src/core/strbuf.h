/*
 * strbuf.h - bounded string copies that say when they truncate.
 */
#ifndef SAMSA_CORE_STRBUF_H
#define SAMSA_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Copy src into dst[cap] (NUL-terminated).  Returns false if truncated. */
static inline bool str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (cap == 0)
        return false;
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = 0;
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

#endif
