/*
 * codec.h - the generic encoder/decoder that walks schema tables.
 *
 * Decoding reads one struct at a version from untrusted bytes.  Every count
 * is checked against the bytes left (times the smallest wire size of an
 * element) before anything is allocated, and all allocations come from the
 * caller's capped arena.  Encoding appends to an obuf; record fields that
 * name a file range become file chunks (zero copy).
 */
#ifndef SAMSA_PROTO_CODEC_H
#define SAMSA_PROTO_CODEC_H

#include <string.h>

#include "core/arena.h"
#include "core/obuf.h"
#include "proto/kreader.h"
#include "proto/schema.h"

/* 0 on success; KERR__PARSE on malformed input, KERR__NOMEM on cap. */
int kcodec_decode(const kf_struct *s, int ver, bool flex, kreader *r, arena *a, void *out);
/* 0 on success; KERR__NOMEM if the obuf ran out of memory. */
int kcodec_encode(const kf_struct *s, int ver, bool flex, const void *in, obuf *ob);
/* Fill `out` (s->size bytes) with the defaults of every field. */
void kcodec_defaults(const kf_struct *s, void *out);
/* A record key or value of an internal topic (__consumer_offsets,
 * __transaction_state): INT16 version, then `in` encoded at that version,
 * in a malloc'd buffer (*out, *len; free it).  0, or -1 out of memory. */
int kcodec_encode_versioned(int16_t version, const kf_struct *s, bool flex, const void *in,
                            uint8_t **out, int32_t *len);

/* Allocate a zeroed array of n elements of `size` bytes in arena `a`,
 * storing it in the {n, v} pair at arr.  Returns the element pointer. */
void *karray_alloc(arena *a, void *arr, int32_t n, size_t size);
#define KARRAY_ALLOC(a, arr, count) \
    ((__typeof__((arr)->v))karray_alloc((a), (arr), (count), sizeof(*(arr)->v)))

static inline kstr kstr_c(const char *s)
{
    kstr k = { s, s ? (int32_t)strlen(s) : -1 };
    return k;
}
static inline bool kstr_eq(kstr a, const char *s)
{
    size_t n = strlen(s);
    return a.len >= 0 && (size_t)a.len == n && memcmp(a.p, s, n) == 0;
}

#endif
