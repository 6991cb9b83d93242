/* varint.c - see varint.h. */
#include "core/varint.h"

size_t uvarint_decode_long(const uint8_t *p, const uint8_t *end, size_t maxlen, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < maxlen; i++) {
        if (p + i >= end)
            return 0;
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

size_t uvarint_encode(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

size_t uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
