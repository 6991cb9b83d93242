/*
 * kreader.h - a bounds-checked reader over untrusted request bytes.
 *
 * Every read checks the remaining length.  The first failure sets a sticky
 * error flag and later reads return zero values, so a decoder can read a
 * run of fields and check r->err once.  Nothing here allocates.
 */
#ifndef SAMSA_PROTO_KREADER_H
#define SAMSA_PROTO_KREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endian.h"
#include "core/varint.h"

typedef struct kreader {
    const uint8_t *p, *end;
    int err;
} kreader;

static inline void kr_init(kreader *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->err = 0;
}
static inline size_t kr_left(const kreader *r) { return (size_t)(r->end - r->p); }
static inline bool kr_need(kreader *r, size_t n)
{
    if (r->err || kr_left(r) < n) {
        r->err = 1;
        return false;
    }
    return true;
}
static inline int8_t kr_i8(kreader *r)
{
    if (!kr_need(r, 1)) return 0;
    return (int8_t)*r->p++;
}
static inline int16_t kr_i16(kreader *r)
{
    if (!kr_need(r, 2)) return 0;
    int16_t v = (int16_t)be16_load(r->p); r->p += 2; return v;
}
static inline int32_t kr_i32(kreader *r)
{
    if (!kr_need(r, 4)) return 0;
    int32_t v = (int32_t)be32_load(r->p); r->p += 4; return v;
}
static inline int64_t kr_i64(kreader *r)
{
    if (!kr_need(r, 8)) return 0;
    int64_t v = (int64_t)be64_load(r->p); r->p += 8; return v;
}
static inline uint32_t kr_uvarint(kreader *r)
{
    uint64_t v = 0;
    if (r->err) return 0;
    size_t n = uvarint_decode(r->p, r->end, UVARINT32_MAX_LEN, &v);
    if (n == 0 || v > UINT32_MAX) { r->err = 1; return 0; }
    r->p += n;
    return (uint32_t)v;
}
static inline const uint8_t *kr_bytes(kreader *r, size_t n)
{
    if (!kr_need(r, n)) return NULL;
    const uint8_t *p = r->p; r->p += n; return p;
}

#endif
