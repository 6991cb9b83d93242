/* compression.c - see compression.h. */
#include "storage/compression.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/endian.h"
#include "core/errors.h"
#include "storage/record_batch.h"

static const uint8_t XERIAL_MAGIC[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

/* A growable output buffer that refuses to pass `cap`. */
typedef struct gbuf { uint8_t *p; size_t len, cap, limit; } gbuf;

static int gbuf_reserve(gbuf *b, size_t more)
{
    if (more > b->limit - b->len)
        return KERR_CORRUPT_MESSAGE;
    if (b->len + more <= b->cap)
        return KERR_NONE;
    size_t ncap = b->cap ? b->cap * 2 : 4096;
    while (ncap < b->len + more)
        ncap *= 2;
    if (ncap > b->limit)
        ncap = b->limit;
    uint8_t *np = realloc(b->p, ncap ? ncap : 1);
    if (!np)
        return KERR__NOMEM;
    b->p = np;
    b->cap = ncap;
    return KERR_NONE;
}

/* Room for at least one more byte, as much as the cap allows up to a doubling. */
static int gbuf_grow(gbuf *b)
{
    if (b->len < b->cap)
        return KERR_NONE;
    size_t more = b->cap ? b->cap : 4096;
    if (more > b->limit - b->len)
        more = b->limit - b->len;
    if (more == 0)
        return KERR_CORRUPT_MESSAGE;
    return gbuf_reserve(b, more);
}

static int gzip_dec(const uint8_t *in, size_t n, gbuf *b)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
        return KERR__NOMEM;
    int rc = KERR_CORRUPT_MESSAGE;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    for (;;) {
        int g = gbuf_grow(b);
        if (g) {
            rc = g;
            break;
        }
        s.next_out = b->p + b->len;
        s.avail_out = (uInt)(b->cap - b->len);
        int z = inflate(&s, Z_NO_FLUSH);
        b->len = b->cap - s.avail_out;
        if (z == Z_STREAM_END) {
            rc = KERR_NONE;
            break;
        }
        if (z != Z_OK && z != Z_BUF_ERROR)
            break;
        if (z == Z_BUF_ERROR && s.avail_in == 0)
            break;                                  /* truncated stream */
    }
    inflateEnd(&s);
    return rc;
}

static int snappy_block(const uint8_t *in, size_t n, gbuf *b)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK)
        return KERR_CORRUPT_MESSAGE;
    /* A snappy copy op turns 2-3 input bytes into at most 64: a claimed
     * length beyond that ratio is a lie, refuse before allocating. */
    if (ulen / 32 > n + 64)
        return KERR_CORRUPT_MESSAGE;
    if (ulen == 0)      /* nothing to write, and b->p may still be NULL */
        return snappy_validate_compressed_buffer((const char *)in, n) == SNAPPY_OK ? KERR_NONE
                                                                                 : KERR_CORRUPT_MESSAGE;
    int e = gbuf_reserve(b, ulen);
    if (e)
        return e;
    size_t outl = ulen;
    if (snappy_uncompress((const char *)in, n, (char *)b->p + b->len, &outl) != SNAPPY_OK || outl != ulen)
        return KERR_CORRUPT_MESSAGE;
    b->len += ulen;
    return KERR_NONE;
}

static int snappy_dec(const uint8_t *in, size_t n, gbuf *b)
{
    if (n < 16 || memcmp(in, XERIAL_MAGIC, 8) != 0)
        return snappy_block(in, n, b);              /* raw (librdkafka) */
    size_t pos = 16;                                /* magic + version + compatible */
    while (pos < n) {
        if (n - pos < 4)
            return KERR_CORRUPT_MESSAGE;
        uint32_t bl = be32_load(in + pos);
        pos += 4;
        if (bl > n - pos)
            return KERR_CORRUPT_MESSAGE;
        int e = snappy_block(in + pos, bl, b);
        if (e)
            return e;
        pos += bl;
    }
    return KERR_NONE;
}

static int lz4_dec(const uint8_t *in, size_t n, gbuf *b)
{
    LZ4F_dctx *dc;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
        return KERR__NOMEM;
    int rc = KERR_CORRUPT_MESSAGE;
    size_t pos = 0;
    for (;;) {
        int g = gbuf_grow(b);
        if (g) {
            rc = g;
            break;
        }
        size_t outl = b->cap - b->len, inl = n - pos;
        size_t r = LZ4F_decompress(dc, b->p + b->len, &outl, in + pos, &inl, NULL);
        if (LZ4F_isError(r))
            break;
        b->len += outl;
        pos += inl;
        if (r == 0) {                               /* frame complete */
            rc = KERR_NONE;
            break;
        }
        if (pos >= n && outl == 0)
            break;                                  /* truncated */
    }
    LZ4F_freeDecompressionContext(dc);
    return rc;
}

static int zstd_dec(const uint8_t *in, size_t n, gbuf *b)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return KERR__NOMEM;
    int rc = KERR_CORRUPT_MESSAGE;
    ZSTD_inBuffer ib = { in, n, 0 };
    for (;;) {
        int g = gbuf_grow(b);
        if (g) {
            rc = g;
            break;
        }
        ZSTD_outBuffer ob = { b->p + b->len, b->cap - b->len, 0 };
        size_t r = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(r))
            break;
        b->len += ob.pos;
        if (r == 0 && ib.pos == ib.size) {
            rc = KERR_NONE;
            break;
        }
        if (ib.pos == ib.size && ob.pos < ob.size)
            break;                                  /* truncated */
    }
    ZSTD_freeDStream(ds);
    return rc;
}

typedef int (*dec_fn)(const uint8_t *, size_t, gbuf *);
static const dec_fn DECODERS[] = {
    [RB_CODEC_GZIP] = gzip_dec,
    [RB_CODEC_SNAPPY] = snappy_dec,
    [RB_CODEC_LZ4] = lz4_dec,
    [RB_CODEC_ZSTD] = zstd_dec,
};

int codec_decompress(int codec, const uint8_t *in, size_t in_len, size_t cap,
                     uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (codec <= 0 || codec > RB_CODEC_ZSTD)
        return KERR_UNSUPPORTED_COMPRESSION_TYPE;
    gbuf b = { NULL, 0, 0, cap > COMPRESSION_HARD_CAP ? COMPRESSION_HARD_CAP : cap };
    int e = DECODERS[codec](in, in_len, &b);
    if (e) {
        free(b.p);
        return e;
    }
    *out = b.p ? b.p : malloc(1);
    if (!*out)
        return KERR__NOMEM;
    *out_len = b.len;
    return KERR_NONE;
}

int codec_compress(int codec, int snappy_xerial, const uint8_t *in, size_t in_len,
                   uint8_t **out, size_t *out_len)
{
    uint8_t *o = NULL;
    size_t ol = 0;
    int rc = KERR__NOMEM;
    switch (codec) {
    case RB_CODEC_GZIP: {
        z_stream s;
        memset(&s, 0, sizeof s);
        if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            goto out;
        ol = deflateBound(&s, (uLong)in_len) + 32;
        if (!(o = malloc(ol))) {
            deflateEnd(&s);
            goto out;
        }
        s.next_in = (Bytef *)in;
        s.avail_in = (uInt)in_len;
        s.next_out = o;
        s.avail_out = (uInt)ol;
        int z = deflate(&s, Z_FINISH);
        ol = s.total_out;
        deflateEnd(&s);
        if (z != Z_STREAM_END)
            goto out;
        break;
    }
    case RB_CODEC_SNAPPY: {
        size_t max = snappy_max_compressed_length(in_len);
        size_t hdr = snappy_xerial ? 20 : 0;
        if (!(o = malloc(max + hdr)))
            goto out;
        size_t cl = max;
        if (snappy_compress((const char *)in, in_len, (char *)o + hdr, &cl) != SNAPPY_OK)
            goto out;
        if (snappy_xerial) {
            memcpy(o, XERIAL_MAGIC, 8);
            be32_store(o + 8, 1);
            be32_store(o + 12, 1);
            be32_store(o + 16, (uint32_t)cl);
        }
        ol = cl + hdr;
        break;
    }
    case RB_CODEC_LZ4: {
        ol = LZ4F_compressFrameBound(in_len, NULL);
        if (!(o = malloc(ol)))
            goto out;
        size_t r = LZ4F_compressFrame(o, ol, in, in_len, NULL);
        if (LZ4F_isError(r))
            goto out;
        ol = r;
        break;
    }
    case RB_CODEC_ZSTD: {
        ol = ZSTD_compressBound(in_len);
        if (!(o = malloc(ol)))
            goto out;
        size_t r = ZSTD_compress(o, ol, in, in_len, 3);
        if (ZSTD_isError(r))
            goto out;
        ol = r;
        break;
    }
    default:
        rc = KERR_UNSUPPORTED_COMPRESSION_TYPE;
        goto out;
    }
    *out = o;
    *out_len = ol;
    o = NULL;
    rc = KERR_NONE;
out:
    free(o);
    return rc;
}
