/*
 * record_batch.h - the v2 record batch: header layout, parsing, CRC,
 * record framing and the checks a produced batch must pass.
 *
 * Owns: knowledge of the byte layout of a magic-2 batch (Kafka's
 * DefaultRecordBatch/DefaultRecord).  Every function works on caller-owned
 * bytes and never allocates; nothing here touches files.
 *
 * Layout (big-endian, offsets from the batch start):
 *   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 |
 *   16 magic i8 | 17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 |
 *   23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64 |
 *   43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 |
 *   57 recordsCount i32 | 61 records...
 *
 * Error codes follow Kafka (LogValidator, ByteBufferLogInputStream,
 * ProduceRequest.validateRecords):
 *   - fewer than 61 bytes / batchLength below the 49-byte minimum or past the
 *     buffer, magic outside 0..2, CRC mismatch, bad record framing
 *                                   -> CORRUPT_MESSAGE
 *   - magic 0 or 1 (legacy formats; Produce v3+ allows only v2)  -> INVALID_RECORD
 *   - recordsCount <= 0, lastOffsetDelta != recordsCount - 1, control batch
 *     from a client, producer id with negative sequence, record offsetDelta
 *     not equal to its index, compacted topic record without key
 *                                   -> INVALID_RECORD
 *   - compression codec 5..7        -> UNSUPPORTED_COMPRESSION_TYPE
 *   - transactional batch without a producer id -> INVALID_RECORD
 *     (the transaction rules themselves are producer_state.h's)
 *   - batch larger than max.message.bytes -> MESSAGE_TOO_LARGE
 *   - CreateTime record timestamp outside [now - before.max, now + after.max]
 *                                   -> INVALID_TIMESTAMP
 *
 * Threads: pure functions, any thread.
 */
#ifndef SAMSA_STORAGE_RECORD_BATCH_H
#define SAMSA_STORAGE_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RB_OFF_BASE_OFFSET = 0,
    RB_OFF_LENGTH = 8,
    RB_OFF_LEADER_EPOCH = 12,
    RB_OFF_MAGIC = 16,
    RB_OFF_CRC = 17,
    RB_OFF_ATTRIBUTES = 21,
    RB_OFF_LAST_OFFSET_DELTA = 23,
    RB_OFF_BASE_TIMESTAMP = 27,
    RB_OFF_MAX_TIMESTAMP = 35,
    RB_OFF_PRODUCER_ID = 43,
    RB_OFF_PRODUCER_EPOCH = 51,
    RB_OFF_BASE_SEQUENCE = 53,
    RB_OFF_RECORDS_COUNT = 57,
    RB_HEADER_SIZE = 61,        /* RECORD_BATCH_OVERHEAD */
    RB_LOG_OVERHEAD = 12,       /* baseOffset + batchLength */
    RB_MIN_BATCH_LENGTH = RB_HEADER_SIZE - RB_LOG_OVERHEAD,  /* 49 */
};

#define RB_ATTR_CODEC_MASK      0x07
#define RB_ATTR_LOG_APPEND_TIME 0x08
#define RB_ATTR_TRANSACTIONAL   0x10
#define RB_ATTR_CONTROL         0x20
#define RB_ATTR_DELETE_HORIZON  0x40

enum rb_codec { RB_CODEC_NONE = 0, RB_CODEC_GZIP = 1, RB_CODEC_SNAPPY = 2, RB_CODEC_LZ4 = 3, RB_CODEC_ZSTD = 4 };

typedef struct rb_header {
    int64_t base_offset;
    int32_t batch_length;       /* bytes after the length field */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} rb_header;

static inline size_t rb_size(const rb_header *h) { return (size_t)h->batch_length + RB_LOG_OVERHEAD; }
static inline int64_t rb_last_offset(const rb_header *h) { return h->base_offset + h->last_offset_delta; }
static inline int rb_codec(const rb_header *h) { return h->attributes & RB_ATTR_CODEC_MASK; }
static inline bool rb_is_log_append_time(const rb_header *h) { return (h->attributes & RB_ATTR_LOG_APPEND_TIME) != 0; }
static inline bool rb_is_transactional(const rb_header *h) { return (h->attributes & RB_ATTR_TRANSACTIONAL) != 0; }
static inline bool rb_is_control(const rb_header *h) { return (h->attributes & RB_ATTR_CONTROL) != 0; }
static inline bool rb_has_producer_id(const rb_header *h) { return h->producer_id >= 0; }
/* Last sequence number of the batch, wrapping past INT32_MAX to 0 like
 * DefaultRecordBatch.incrementSequence. */
int32_t rb_last_sequence(const rb_header *h);
int32_t rb_seq_add(int32_t seq, int32_t delta);

/* Parse the header at p with `avail` readable bytes.  Returns KERR_NONE;
 * KERR__AGAIN if fewer than RB_LOG_OVERHEAD/RB_HEADER_SIZE bytes are
 * available (a partial batch); KERR_CORRUPT_MESSAGE or KERR_INVALID_RECORD
 * (legacy magic) otherwise.  Does not require the whole batch to be present
 * (check rb_size(h) <= avail yourself) and does not check the CRC. */
int rb_parse_header(const uint8_t *p, size_t avail, rb_header *h);

/* CRC-32C of bytes [21, size) of a whole batch. */
uint32_t rb_compute_crc(const uint8_t *batch, size_t size);
bool rb_crc_ok(const uint8_t *batch, const rb_header *h);

/* In-place rewrites of a whole batch (caller owns it). */
void rb_set_base_offset(uint8_t *batch, int64_t base_offset);
void rb_set_leader_epoch(uint8_t *batch, int32_t epoch);
/* Set maxTimestamp and the timestamp-type attribute bit, then recompute the
 * CRC (Kafka's DefaultRecordBatch.setMaxTimestamp).  No-op when unchanged. */
void rb_set_max_timestamp(uint8_t *batch, size_t size, bool log_append_time, int64_t max_ts);

/* One record, as framed inside a batch (or a decompressed records blob). */
typedef struct rb_record {
    int32_t offset_delta;
    int64_t timestamp;          /* baseTimestamp + timestampDelta */
    const uint8_t *key;         /* NULL when key_len == -1 */
    int32_t key_len;
    const uint8_t *value;       /* NULL when value_len == -1 (tombstone) */
    int32_t value_len;
    int32_t headers_count;
    const uint8_t *headers;     /* raw header bytes */
    size_t headers_len;
} rb_record;

/* Parse the record at *pp (not past end) and advance *pp past it.  Checks
 * that every length is sane and that the varint-framed length matches the
 * bytes the fields use.  KERR_NONE or KERR_CORRUPT_MESSAGE. */
int rb_record_next(const uint8_t **pp, const uint8_t *end, int64_t base_timestamp, rb_record *r);

/* Control records (transaction markers, Kafka's EndTransactionMarker):
 * key = version i16 (0) + type i16; value = version i16 (0) + coordinator
 * epoch i32. */
#define RB_CONTROL_ABORT 0
#define RB_CONTROL_COMMIT 1
/* Type of the first control record of a whole, uncompressed control batch
 * (RB_CONTROL_*), or -1 when it is not a readable marker. */
int rb_control_type(const uint8_t *batch, size_t avail);
/* Its coordinator epoch, or -1. */
int32_t rb_control_coordinator_epoch(const uint8_t *batch, size_t avail);

/* Limits applied to a batch produced by a client. */
typedef struct rb_limits {
    int32_t max_message_bytes;
    int timestamp_type;                 /* 0 CreateTime, 1 LogAppendTime */
    int64_t timestamp_before_max_ms;    /* INT64_MAX = no limit */
    int64_t timestamp_after_max_ms;
    bool compact;                       /* records need keys */
    bool coordinator;                   /* a coordinator's batch: a producer id without sequence is fine */
} rb_limits;

typedef struct rb_verdict {
    int16_t error;              /* KERR_NONE or the Kafka code */
    int32_t record_index;       /* offending record inside the batch, -1 if not record-specific */
    const char *message;        /* static text, NULL when error == 0 */
    int64_t max_timestamp;      /* largest record timestamp (uncompressed: computed; compressed: header) */
    int32_t max_timestamp_delta;/* offsetDelta of the record holding it (compressed: lastOffsetDelta) */
} rb_verdict;

/* Validate one client batch at p (avail bytes readable, whole batch must be
 * there).  Parses the header into *h.  Uncompressed batches have every
 * record's framing walked (no copying); compressed ones are checked at the
 * header level and by CRC only (see docs/storage-format.md).  now_ms is used
 * for the timestamp window. */
void rb_validate_client_batch(const uint8_t *p, size_t avail, const rb_limits *lim,
                              int64_t now_ms, rb_header *h, rb_verdict *v);

#endif
