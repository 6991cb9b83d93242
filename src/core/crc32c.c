/* crc32c.c - see crc32c.h.  ISA-L works on the raw (non-inverted) register. */
#include "core/crc32c.h"

#include <isa-l/crc.h>
#include <limits.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    uint32_t reg = ~crc;
    const unsigned char *p = buf;
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        reg = crc32_iscsi((unsigned char *)p, chunk, reg);
        p += chunk;
        len -= (size_t)chunk;
    }
    return ~reg;
}
