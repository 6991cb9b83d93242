/*
 * wire.h - the CLI's own Kafka wire primitives (big-endian, bounds-checked),
 * shared by its pure codecs: meta_wire.c (Metadata v7),
 * reassign_wire.c (AlterPartitionReassignments, ListPartitionReassignments,
 * IncrementalAlterConfigs) and txn_wire.c (FindCoordinator,
 * ListTransactions, DescribeTransactions).  Header-only, no I/O.
 *
 * The writer sets `full` instead of overflowing; the reader is sticky: the
 * first short read sets `bad` and every later read returns zeros, so a
 * decoder checks once per element.
 */
#ifndef SAMSA_CLI_WIRE_H
#define SAMSA_CLI_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int full;
} wbuf_t;

static inline void put(wbuf_t *w, const void *src, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static inline void put8(wbuf_t *w, int8_t v)
{
    put(w, &v, 1);
}

static inline void put16(wbuf_t *w, int16_t v)
{
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    put(w, b, 2);
}

static inline void put32(wbuf_t *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    put(w, b, 4);
}

static inline void putstr(wbuf_t *w, const char *s)
{
    size_t n = strlen(s);
    if (n > INT16_MAX) {
        w->full = 1;
        return;
    }
    put16(w, (int16_t)n);
    put(w, s, n);
}

static inline void put_uvarint(wbuf_t *w, uint32_t v)
{
    while (v >= 0x80) {
        put8(w, (int8_t)(uint8_t)(v | 0x80));
        v >>= 7;
    }
    put8(w, (int8_t)(uint8_t)v);
}

/* Flexible versions: compact string (length + 1; NULL = 0). */
static inline void put_cstr(wbuf_t *w, const char *s)
{
    if (!s) {
        put_uvarint(w, 0);
        return;
    }
    size_t n = strlen(s);
    put_uvarint(w, (uint32_t)n + 1);
    put(w, s, n);
}

/* A request frame's size placeholder and header v1 (api key, version,
 * correlation id, client id); wbuf_finish patches the size. */
static inline void frame_begin(wbuf_t *w, int16_t key, int16_t version, int32_t corr,
                               const char *client_id)
{
    put32(w, 0);
    put16(w, key);
    put16(w, version);
    put32(w, corr);
    putstr(w, client_id);
}

/* Patch the int32 size prefix of a frame starting at buf; the frame length
 * or 0 when it did not fit. */
static inline size_t wbuf_finish(wbuf_t *w)
{
    if (w->full || w->len < 4)
        return 0;
    uint32_t sz = (uint32_t)(w->len - 4);
    w->p[0] = (uint8_t)(sz >> 24);
    w->p[1] = (uint8_t)(sz >> 16);
    w->p[2] = (uint8_t)(sz >> 8);
    w->p[3] = (uint8_t)sz;
    return w->len;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t left;
    int bad;
} rbuf_t;

static inline const uint8_t *take(rbuf_t *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *s = r->p;
    r->p += n;
    r->left -= n;
    return s;
}

static inline int16_t get16(rbuf_t *r)
{
    const uint8_t *b = take(r, 2);
    return b ? (int16_t)(uint16_t)((b[0] << 8) | b[1]) : 0;
}

static inline int32_t get32(rbuf_t *r)
{
    const uint8_t *b = take(r, 4);
    return b ? (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) : 0;
}

static inline uint32_t get_uvarint(rbuf_t *r)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        const uint8_t *b = take(r, 1);
        if (!b)
            return 0;
        v |= (uint32_t)(*b & 0x7f) << shift;
        if (!(*b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static inline void put64(wbuf_t *w, int64_t v)
{
    put32(w, (int32_t)(uint32_t)((uint64_t)v >> 32));
    put32(w, (int32_t)(uint32_t)(uint64_t)v);
}

static inline int64_t get64(rbuf_t *r)
{
    uint32_t hi = (uint32_t)get32(r), lo = (uint32_t)get32(r);
    return (int64_t)(((uint64_t)hi << 32) | lo);
}

/* Request header v1 (flexible: v2, with its empty tagged fields) after the
 * size placeholder; wbuf_finish patches the size. */
static inline void req_header(wbuf_t *w, int16_t key, int16_t ver, int32_t corr, const char *client_id,
                              int flexible)
{
    frame_begin(w, key, ver, corr, client_id);
    if (flexible)
        put_uvarint(w, 0);              /* no tagged fields */
}

/* Skip a tagged-field section. */
static inline void skip_tags(rbuf_t *r)
{
    uint32_t n = get_uvarint(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        get_uvarint(r);
        take(r, get_uvarint(r));
    }
}

/* Response header: the correlation id must match; flexible: tagged fields. */
static inline void resp_header(rbuf_t *r, int32_t corr, int flexible)
{
    if (get32(r) != corr)
        r->bad = 1;
    if (flexible)
        skip_tags(r);
}

/* Compact array count: -1 for null, else at most left/min elements. */
static inline int32_t get_ccount(rbuf_t *r, size_t min)
{
    uint32_t n = get_uvarint(r);
    if (r->bad || n == 0)
        return n == 0 ? -1 : 0;
    if ((size_t)(n - 1) > r->left / min)
        r->bad = 1;
    return r->bad ? 0 : (int32_t)(n - 1);
}

/* A compact string into buf (cap bytes, truncated), or "" when null. */
static inline void get_cstr(rbuf_t *r, char *buf, size_t cap)
{
    uint32_t n = get_uvarint(r);
    buf[0] = 0;
    if (r->bad || n == 0)
        return;
    const uint8_t *s = take(r, n - 1);
    if (!s)
        return;
    size_t k = n - 1 < cap - 1 ? n - 1 : cap - 1;
    memcpy(buf, s, k);
    buf[k] = 0;
}

#endif
