/* record_batch.c - see record_batch.h. */
#include "storage/record_batch.h"

#include "core/crc32c.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/varint.h"

int32_t rb_seq_add(int32_t seq, int32_t delta)
{
    /* Kafka's incrementSequence with Java's wrapping int arithmetic: delta
     * is a batch's lastOffsetDelta, which a damaged segment read at load
     * can make negative (INT32_MAX - delta would overflow). */
    int32_t lim = (int32_t)((uint32_t)INT32_MAX - (uint32_t)delta);
    if (seq > lim)
        return (int32_t)((uint32_t)delta - ((uint32_t)INT32_MAX - (uint32_t)seq) - 1u);
    return (int32_t)((uint32_t)seq + (uint32_t)delta);
}

int32_t rb_last_sequence(const rb_header *h)
{
    if (h->base_sequence < 0)
        return -1;
    return rb_seq_add(h->base_sequence, h->last_offset_delta);
}

int rb_parse_header(const uint8_t *p, size_t avail, rb_header *h)
{
    if (avail < RB_LOG_OVERHEAD)
        return KERR__AGAIN;
    h->base_offset = (int64_t)be64_load(p + RB_OFF_BASE_OFFSET);
    h->batch_length = (int32_t)be32_load(p + RB_OFF_LENGTH);
    if (avail < RB_OFF_MAGIC + 1)
        return KERR__AGAIN;
    h->magic = (int8_t)p[RB_OFF_MAGIC];
    if (h->magic == 0 || h->magic == 1)
        return KERR_INVALID_RECORD;
    if (h->magic != 2)
        return KERR_CORRUPT_MESSAGE;
    if (h->batch_length < RB_MIN_BATCH_LENGTH)
        return KERR_CORRUPT_MESSAGE;
    if (avail < RB_HEADER_SIZE)
        return KERR__AGAIN;
    h->leader_epoch = (int32_t)be32_load(p + RB_OFF_LEADER_EPOCH);
    h->crc = be32_load(p + RB_OFF_CRC);
    h->attributes = (int16_t)be16_load(p + RB_OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)be32_load(p + RB_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)be64_load(p + RB_OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)be64_load(p + RB_OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)be64_load(p + RB_OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)be16_load(p + RB_OFF_PRODUCER_EPOCH);
    h->base_sequence = (int32_t)be32_load(p + RB_OFF_BASE_SEQUENCE);
    h->records_count = (int32_t)be32_load(p + RB_OFF_RECORDS_COUNT);
    return KERR_NONE;
}

uint32_t rb_compute_crc(const uint8_t *batch, size_t size)
{
    return crc32c(0, batch + RB_OFF_ATTRIBUTES, size - RB_OFF_ATTRIBUTES);
}

bool rb_crc_ok(const uint8_t *batch, const rb_header *h)
{
    return rb_compute_crc(batch, rb_size(h)) == h->crc;
}

void rb_set_base_offset(uint8_t *batch, int64_t base_offset)
{
    be64_store(batch + RB_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void rb_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
    be32_store(batch + RB_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void rb_set_max_timestamp(uint8_t *batch, size_t size, bool log_append_time, int64_t max_ts)
{
    uint16_t attr = be16_load(batch + RB_OFF_ATTRIBUTES);
    uint16_t nattr = log_append_time ? (attr | RB_ATTR_LOG_APPEND_TIME)
                                     : (attr & (uint16_t)~RB_ATTR_LOG_APPEND_TIME);
    if (nattr == attr && (int64_t)be64_load(batch + RB_OFF_MAX_TIMESTAMP) == max_ts)
        return;
    be16_store(batch + RB_OFF_ATTRIBUTES, nattr);
    be64_store(batch + RB_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
    be32_store(batch + RB_OFF_CRC, rb_compute_crc(batch, size));
}

/* Read a zig-zag varint length field that must be >= min. */
static inline int read_len(const uint8_t **pp, const uint8_t *end, int32_t min, int32_t *out)
{
    size_t n = varint32_decode(*pp, end, out);
    if (n == 0 || *out < min)
        return -1;
    *pp += n;
    return 0;
}

int rb_record_next(const uint8_t **pp, const uint8_t *end, int64_t base_timestamp, rb_record *r)
{
    const uint8_t *p = *pp;
    int32_t len;
    if (read_len(&p, end, 1, &len) < 0 || (size_t)(end - p) < (size_t)len)
        return KERR_CORRUPT_MESSAGE;
    const uint8_t *rend = p + len;
    int64_t ts_delta;
    size_t n;
    p++;                                            /* attributes, unused */
    if (p > rend || (n = varint64_decode(p, rend, &ts_delta)) == 0)
        return KERR_CORRUPT_MESSAGE;
    p += n;
    if ((n = varint32_decode(p, rend, &r->offset_delta)) == 0)
        return KERR_CORRUPT_MESSAGE;
    p += n;
    r->timestamp = (int64_t)((uint64_t)base_timestamp + (uint64_t)ts_delta);
    if (read_len(&p, rend, -1, &r->key_len) < 0 || (r->key_len > 0 && rend - p < r->key_len))
        return KERR_CORRUPT_MESSAGE;
    r->key = r->key_len >= 0 ? p : NULL;
    p += r->key_len > 0 ? r->key_len : 0;
    if (read_len(&p, rend, -1, &r->value_len) < 0 || (r->value_len > 0 && rend - p < r->value_len))
        return KERR_CORRUPT_MESSAGE;
    r->value = r->value_len >= 0 ? p : NULL;
    p += r->value_len > 0 ? r->value_len : 0;
    if (read_len(&p, rend, 0, &r->headers_count) < 0)
        return KERR_CORRUPT_MESSAGE;
    r->headers = p;
    for (int32_t i = 0; i < r->headers_count; i++) {
        int32_t kl, vl;
        if (read_len(&p, rend, 0, &kl) < 0 || rend - p < kl)
            return KERR_CORRUPT_MESSAGE;
        p += kl;
        if (read_len(&p, rend, -1, &vl) < 0 || (vl > 0 && rend - p < vl))
            return KERR_CORRUPT_MESSAGE;
        p += vl > 0 ? vl : 0;
    }
    r->headers_len = (size_t)(p - r->headers);
    if (p != rend)                                  /* length lies about the fields */
        return KERR_CORRUPT_MESSAGE;
    *pp = rend;
    return KERR_NONE;
}

static bool ts_out_of_window(int64_t ts, int64_t now, const rb_limits *lim)
{
    int64_t lo, hi;
    if (ts == -1)                                   /* RecordBatch.NO_TIMESTAMP */
        return false;
    if (lim->timestamp_before_max_ms != INT64_MAX &&
        !__builtin_sub_overflow(now, lim->timestamp_before_max_ms, &lo) && ts < lo)
        return true;
    if (lim->timestamp_after_max_ms != INT64_MAX &&
        !__builtin_add_overflow(now, lim->timestamp_after_max_ms, &hi) && ts > hi)
        return true;
    return false;
}

#define FAIL(code, idx, msg) do { v->error = (code); v->record_index = (idx); v->message = (msg); return; } while (0)

void rb_validate_client_batch(const uint8_t *p, size_t avail, const rb_limits *lim,
                              int64_t now_ms, rb_header *h, rb_verdict *v)
{
    v->error = KERR_NONE;
    v->record_index = -1;
    v->message = NULL;
    v->max_timestamp = -1;
    v->max_timestamp_delta = 0;

    int e = rb_parse_header(p, avail, h);
    if (e == KERR__AGAIN)
        FAIL(KERR_CORRUPT_MESSAGE, -1, "Record batch is truncated");
    if (e == KERR_INVALID_RECORD)
        FAIL(KERR_INVALID_RECORD, -1, "Produce requests are only allowed to contain record batches with magic version 2");
    if (e)
        FAIL(e, -1, "Record batch has an invalid size or magic byte");
    if (rb_size(h) > avail)
        FAIL(KERR_CORRUPT_MESSAGE, -1, "Record batch length exceeds the request data");
    if (rb_size(h) > (size_t)lim->max_message_bytes)
        FAIL(KERR_MESSAGE_TOO_LARGE, -1, "Record batch is larger than max.message.bytes");
    if (!rb_crc_ok(p, h))
        FAIL(KERR_CORRUPT_MESSAGE, -1, "Record batch CRC does not match its contents");
    if (rb_codec(h) > RB_CODEC_ZSTD)
        FAIL(KERR_UNSUPPORTED_COMPRESSION_TYPE, -1, "Unknown compression codec");
    if (rb_is_control(h))
        FAIL(KERR_INVALID_RECORD, -1, "Clients are not allowed to write control records");
    if (rb_is_transactional(h) && !rb_has_producer_id(h))
        FAIL(KERR_INVALID_RECORD, -1, "Transactional record batch has no producer id");
    if (rb_has_producer_id(h) && h->base_sequence < 0 && !lim->coordinator)
        FAIL(KERR_INVALID_RECORD, -1, "Invalid sequence number in record batch with a producer id");
    if (h->records_count <= 0)
        FAIL(KERR_INVALID_RECORD, -1, "Record batch has an invalid record count");
    if (h->last_offset_delta < 0 || (int64_t)h->last_offset_delta + 1 != h->records_count)
        FAIL(KERR_INVALID_RECORD, -1, "Record batch has an inconsistent offset range");

    bool create_time = lim->timestamp_type == 0;
    if (rb_codec(h) != RB_CODEC_NONE) {
        /* Records are not decompressed on append: the header speaks for them. */
        if (create_time && (ts_out_of_window(h->max_timestamp, now_ms, lim) ||
                            ts_out_of_window(h->base_timestamp, now_ms, lim)))
            FAIL(KERR_INVALID_TIMESTAMP, 0, "Timestamp of a record is out of the accepted range");
        v->max_timestamp = h->max_timestamp;
        v->max_timestamp_delta = h->last_offset_delta;
        return;
    }

    const uint8_t *q = p + RB_HEADER_SIZE, *end = p + rb_size(h);
    int64_t max_ts = -1;
    int32_t max_delta = 0;
    for (int32_t i = 0; i < h->records_count; i++) {
        rb_record r;
        if (q >= end || rb_record_next(&q, end, h->base_timestamp, &r) != KERR_NONE)
            FAIL(KERR_CORRUPT_MESSAGE, i, "Record framing is inconsistent with its length");
        if (r.offset_delta != i)
            FAIL(KERR_INVALID_RECORD, i, "Record offset delta does not match its position in the batch");
        if (lim->compact && !r.key)
            FAIL(KERR_INVALID_RECORD, i, "Compacted topic cannot accept message without key");
        if (create_time && ts_out_of_window(r.timestamp, now_ms, lim))
            FAIL(KERR_INVALID_TIMESTAMP, i, "Timestamp of a record is out of the accepted range");
        if (r.timestamp > max_ts) {
            max_ts = r.timestamp;
            max_delta = r.offset_delta;
        }
    }
    if (q != end)
        FAIL(KERR_CORRUPT_MESSAGE, -1, "Record batch has bytes after its last record");
    v->max_timestamp = max_ts;
    v->max_timestamp_delta = max_delta;
}

/* The first record of a whole, uncompressed control batch. 0 / -1. */
static int first_control_record(const uint8_t *p, size_t avail, rb_record *r)
{
    rb_header h;
    if (rb_parse_header(p, avail, &h) != KERR_NONE || rb_size(&h) > avail || !rb_is_control(&h) ||
        rb_codec(&h) != RB_CODEC_NONE || h.records_count < 1)
        return -1;
    const uint8_t *q = p + RB_HEADER_SIZE;
    return rb_record_next(&q, p + rb_size(&h), h.base_timestamp, r) == KERR_NONE ? 0 : -1;
}

int rb_control_type(const uint8_t *p, size_t avail)
{
    rb_record r;
    if (first_control_record(p, avail, &r) < 0 || !r.key || r.key_len < 4 || be16_load(r.key) != 0)
        return -1;
    int16_t type = (int16_t)be16_load(r.key + 2);
    return type == RB_CONTROL_ABORT || type == RB_CONTROL_COMMIT ? type : -1;
}

int32_t rb_control_coordinator_epoch(const uint8_t *p, size_t avail)
{
    rb_record r;
    if (first_control_record(p, avail, &r) < 0 || !r.value || r.value_len < 6)
        return -1;
    return (int32_t)be32_load(r.value + 2);
}
