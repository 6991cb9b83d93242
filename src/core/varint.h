/*
 * varint.h - Kafka's variable-length integers.
 *
 * Unsigned varints (LEB128, 7 bits a byte, low group first) carry compact
 * lengths and tag numbers; signed ones are zig-zag encoded first (record
 * fields).  Decoders take an explicit end pointer and never read past it.
 */
#ifndef SAMSA_CORE_VARINT_H
#define SAMSA_CORE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define UVARINT32_MAX_LEN 5
#define UVARINT64_MAX_LEN 10

/* Decode an unsigned varint of at most `maxlen` bytes (5 for 32-bit, 10 for
 * 64-bit; at least 2).  Returns bytes consumed, or 0 if truncated or
 * over-long.  Record fields are mostly one or two bytes (attributes, deltas,
 * lengths under 8 KiB, null keys, header counts): those are inline, longer
 * ones out of line (a produce walks six varints per record). */
size_t uvarint_decode_long(const uint8_t *p, const uint8_t *end, size_t maxlen, uint64_t *out);
static inline size_t uvarint_decode(const uint8_t *p, const uint8_t *end, size_t maxlen, uint64_t *out)
{
    if (p < end) {
        if (!(p[0] & 0x80)) {
            *out = p[0];
            return 1;
        }
        if (end - p >= 2 && !(p[1] & 0x80)) {
            *out = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
            return 2;
        }
    }
    return uvarint_decode_long(p, end, maxlen, out);
}

static inline size_t varint32_decode(const uint8_t *p, const uint8_t *end, int32_t *out)
{
    uint64_t u;
    size_t n = uvarint_decode(p, end, UVARINT32_MAX_LEN, &u);
    if (n == 0 || u > UINT32_MAX)
        return 0;
    uint32_t v = (uint32_t)u;
    *out = (int32_t)((v >> 1) ^ (0u - (v & 1)));
    return n;
}

static inline size_t varint64_decode(const uint8_t *p, const uint8_t *end, int64_t *out)
{
    uint64_t u;
    size_t n = uvarint_decode(p, end, UVARINT64_MAX_LEN, &u);
    if (n == 0)
        return 0;
    *out = (int64_t)((u >> 1) ^ (0ull - (u & 1)));
    return n;
}

/* Encoders write at most UVARINT64_MAX_LEN bytes and return the count. */
size_t uvarint_encode(uint8_t *p, uint64_t v);
static inline size_t varint32_encode(uint8_t *p, int32_t v)
{
    return uvarint_encode(p, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
}
static inline size_t varint64_encode(uint8_t *p, int64_t v)
{
    return uvarint_encode(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
size_t uvarint_size(uint64_t v);

#endif
