/*
 * batch_builder.h - build a v2 record batch from records (with CRC).
 *
 * Owns: encoding records into Kafka's v2 batch format, optionally
 * compressed.  Used by tests, and later by the group coordinator to write
 * __consumer_offsets records and by compaction.  The output is malloc'd and
 * owned by the caller.  Threads: pure, any thread.
 */
#ifndef SAMSA_STORAGE_BATCH_BUILDER_H
#define SAMSA_STORAGE_BATCH_BUILDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct bb_record {
    const void *key;        /* NULL = null key */
    int32_t key_len;
    const void *value;      /* NULL = null value (tombstone) */
    int32_t value_len;
    int64_t timestamp;
} bb_record;

typedef struct bb_params {
    int64_t base_offset;        /* usually 0 from a producer */
    int32_t leader_epoch;       /* -1 from a producer */
    int codec;                  /* RB_CODEC_* */
    int snappy_xerial;          /* snappy framing: 1 Java (xerial), 0 raw (librdkafka) */
    int16_t extra_attributes;   /* OR'ed in: timestamp type, transactional, control */
    int64_t producer_id;        /* -1 none */
    int16_t producer_epoch;
    int32_t base_sequence;
} bb_params;

void bb_params_init(bb_params *p);   /* no producer, no codec, offsets 0, epoch -1 */

/* KERR_NONE or an error code; *out is malloc'd (free it). */
int bb_build(const bb_params *p, const bb_record *recs, int n, uint8_t **out, size_t *out_len);

#endif
