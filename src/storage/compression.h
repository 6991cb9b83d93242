/*
 * compression.h - the four record-batch codecs, bounded.
 *
 * Owns: turning the records blob of a compressed batch into plain record
 * bytes and back.  Framing per codec, as clients write it:
 *   gzip   - a gzip stream (zlib, windowBits 16+15).
 *   snappy - either the xerial snappy-java stream (magic 82 'SNAPPY' 00,
 *            version i32, compatible i32, then blocks of [i32 len][raw
 *            snappy]) as the Java client writes it, or one raw snappy block
 *            as librdkafka writes it.  Detected by the 8-byte magic, exactly
 *            like snappy-java's SnappyInputStream and librdkafka do.
 *   lz4    - the LZ4 frame format.
 *   zstd   - a zstd frame (content size may be absent: streamed).
 *
 * Bounds: output never exceeds `cap` bytes; a stream that would inflate past
 * it fails with KERR_CORRUPT_MESSAGE (no allocation is driven by a size the
 * input merely claims).  Memory: *out is malloc'd, the caller frees it.
 * Threads: pure functions, any thread.
 */
#ifndef SAMSA_STORAGE_COMPRESSION_H
#define SAMSA_STORAGE_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

/* Hard ceiling for any decompression, whatever the caller asks. */
#define COMPRESSION_HARD_CAP (256u << 20)

/* Returns KERR_NONE, KERR_CORRUPT_MESSAGE (bad stream or over cap),
 * KERR_UNSUPPORTED_COMPRESSION_TYPE (unknown codec) or KERR__NOMEM. */
int codec_decompress(int codec, const uint8_t *in, size_t in_len, size_t cap,
                     uint8_t **out, size_t *out_len);

/* Compress with `codec` (1..4; snappy_xerial selects the Java framing for
 * snappy, else raw).  Used by the batch builder and tests. */
int codec_compress(int codec, int snappy_xerial, const uint8_t *in, size_t in_len,
                   uint8_t **out, size_t *out_len);

#endif
