/*
 * fuzz_record_batch.c - the produce-path batch validator, the record
 * iterator and the four decompressors.
 *
 * Input: byte 0 = flags, bytes 1.. = one or more concatenated v2 batches
 * (what a Produce request carries for one partition).
 *   bit 0  fix the CRC of each batch before validating (lets the fuzzer get
 *          past the CRC check into record framing)
 *   bit 1  compacted topic (records need keys)
 *   bit 2  message.timestamp.type=LogAppendTime
 *   bit 3  a timestamp window of +-1 h around the fixed "now"
 *   bit 4  max.message.bytes=1024 (else the default 1048588)
 *   bit 5  xerial framing when re-compressing snappy
 *
 * Per batch:
 *   rb_validate_client_batch, then rb_iter_init/rb_iter_next over the same
 *   bytes with a 1 MiB decompression cap, then (compressed batches whose
 *   records decompress) a compress/decompress round trip of the records.
 *
 * Oracle:
 *   - an accepted batch really has what the validator promises: whole,
 *     CRC ok, known codec, not control, transactional only with a producer
 *     id (issue 16: clients write transactional batches), records_count > 0
 *     and lastOffsetDelta = records_count - 1;
 *   - for an accepted UNCOMPRESSED batch the iterator agrees with the
 *     validator: exactly records_count records, offset deltas 0..n-1, the
 *     same maximum timestamp, then end-of-batch (0);
 *   - the iterator never yields more than records_count records, and
 *     decompressed output never exceeds the cap;
 *   - codec_compress + codec_decompress gives back the same bytes;
 *   - rb_set_max_timestamp leaves a batch whose CRC still matches.
 */
#include <stdbool.h>
#include <string.h>

#include "core/errors.h"
#include "storage/compression.h"
#include "storage/record_batch.h"
#include "storage/record_iter.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define DECOMP_CAP (1u << 20)
#define MAX_BATCHES 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

static void check_accepted(const uint8_t *p, size_t avail, const rb_header *h, const rb_limits *lim)
{
    FUZZ_ASSERT(rb_size(h) <= avail, "accepted batch longer than the data");
    FUZZ_ASSERT(rb_size(h) <= (size_t)lim->max_message_bytes, "accepted batch above max.message.bytes");
    FUZZ_ASSERT(rb_crc_ok(p, h), "accepted batch with a bad CRC");
    FUZZ_ASSERT(rb_codec(h) <= RB_CODEC_ZSTD, "accepted unknown codec %d", rb_codec(h));
    FUZZ_ASSERT(!rb_is_control(h), "accepted control batch");
    FUZZ_ASSERT(!rb_is_transactional(h) || rb_has_producer_id(h), "accepted transactional batch without a producer id");
    FUZZ_ASSERT(h->records_count > 0 && h->last_offset_delta == h->records_count - 1,
                "accepted batch with count %d, lastOffsetDelta %d", h->records_count, h->last_offset_delta);
    FUZZ_ASSERT(h->producer_id < 0 || h->base_sequence >= 0, "accepted producer batch with sequence %d",
                h->base_sequence);
}

/* Walk the records with the iterator; cross-check an accepted plain batch. */
static void iterate(const uint8_t *p, size_t avail, const rb_header *vh, const rb_verdict *v,
                    const rb_limits *lim, bool xerial)
{
    rb_iter it;
    int e = rb_iter_init(&it, p, avail, DECOMP_CAP);
    bool plain_ok = v->error == KERR_NONE && rb_codec(vh) == RB_CODEC_NONE;
    if (plain_ok)
        FUZZ_ASSERT(e == KERR_NONE, "validator accepted a batch the iterator refuses (%d)", e);
    if (e != KERR_NONE)
        return;
    FUZZ_ASSERT(it.end >= it.p, "iterator range reversed");
    if (it.owned)
        FUZZ_ASSERT((size_t)(it.end - it.p) <= DECOMP_CAP, "decompressed past the cap");

    const uint8_t *start = it.p;
    int32_t n = 0;
    int64_t max_ts = -1;
    int last;
    rb_iter_record rec;
    while ((last = rb_iter_next(&it, &rec)) == 1) {
        FUZZ_ASSERT(n < it.h.records_count, "iterator yielded more than recordsCount records");
        if (plain_ok) {
            FUZZ_ASSERT(rec.r.offset_delta == n, "record %d has offset delta %d", n, rec.r.offset_delta);
            FUZZ_ASSERT(!lim->compact || rec.r.key, "accepted keyless record in a compacted topic");
        }
        FUZZ_ASSERT(rec.r.key_len < 0 || (rec.r.key >= start && rec.r.key + rec.r.key_len <= it.end),
                    "key outside the records");
        FUZZ_ASSERT(rec.r.value_len < 0 || (rec.r.value >= start && rec.r.value + rec.r.value_len <= it.end),
                    "value outside the records");
        if (rec.r.timestamp > max_ts)
            max_ts = rec.r.timestamp;
        n++;
    }
    if (plain_ok) {
        FUZZ_ASSERT(last == 0, "iterator failed (%d) on an accepted batch after %d records", last, n);
        FUZZ_ASSERT(n == vh->records_count, "iterator gave %d of %d records", n, vh->records_count);
        FUZZ_ASSERT(max_ts == v->max_timestamp, "max timestamp %lld, validator said %lld",
                    (long long)max_ts, (long long)v->max_timestamp);
    }

    /* Compression round trip of whatever decompressed. */
    if (it.owned) {
        size_t ilen = (size_t)(it.end - it.owned), clen = 0, dlen = 0;
        uint8_t *c = NULL, *d = NULL;
        int codec = rb_codec(&it.h);
        int ce = codec_compress(codec, xerial, it.owned, ilen, &c, &clen);
        FUZZ_ASSERT(ce == KERR_NONE, "codec %d cannot compress %zu bytes (%d)", codec, ilen, ce);
        int de = codec_decompress(codec, c, clen, DECOMP_CAP, &d, &dlen);
        FUZZ_ASSERT(de == KERR_NONE && dlen == ilen && (ilen == 0 || memcmp(d, it.owned, ilen) == 0),
                    "codec %d round trip of %zu bytes failed (%d, %zu bytes back)", codec, ilen, de, dlen);
        free(c);
        free(d);
    }
    rb_iter_free(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    FUZZ_ASSERT(buf, "malloc");
    memcpy(buf, data + 1, len);

    rb_limits lim = {
        .max_message_bytes = (flags & 16) ? 1024 : 1048588,
        .timestamp_type = (flags & 4) ? 1 : 0,
        .timestamp_before_max_ms = (flags & 8) ? 3600000 : INT64_MAX,
        .timestamp_after_max_ms = (flags & 8) ? 3600000 : INT64_MAX,
        .compact = (flags & 2) != 0,
    };

    size_t pos = 0;
    for (int b = 0; b < MAX_BATCHES && pos < len; b++) {
        uint8_t *p = buf + pos;
        size_t avail = len - pos;
        rb_header h;
        int pe = rb_parse_header(p, avail, &h);
        if ((flags & 1) && pe == KERR_NONE && rb_size(&h) <= avail) {
            uint32_t crc = rb_compute_crc(p, rb_size(&h));
            p[RB_OFF_CRC] = (uint8_t)(crc >> 24);
            p[RB_OFF_CRC + 1] = (uint8_t)(crc >> 16);
            p[RB_OFF_CRC + 2] = (uint8_t)(crc >> 8);
            p[RB_OFF_CRC + 3] = (uint8_t)crc;
        }
        rb_verdict v;
        rb_header vh;
        rb_validate_client_batch(p, avail, &lim, FUZZ_NOW_MS, &vh, &v);
        FUZZ_ASSERT((v.error == KERR_NONE) == (v.message == NULL), "verdict message/error mismatch");
        if (v.error == KERR_NONE) {
            check_accepted(p, avail, &vh, &lim);
            /* Rewriting maxTimestamp keeps the batch valid. */
            size_t bs = rb_size(&vh);
            uint8_t *copy = malloc(bs);
            FUZZ_ASSERT(copy, "malloc");
            memcpy(copy, p, bs);
            rb_set_max_timestamp(copy, bs, !rb_is_log_append_time(&vh), FUZZ_NOW_MS);
            rb_header ch;
            FUZZ_ASSERT(rb_parse_header(copy, bs, &ch) == KERR_NONE && rb_crc_ok(copy, &ch) &&
                        ch.max_timestamp == FUZZ_NOW_MS, "rb_set_max_timestamp broke the batch");
            free(copy);
        }
        iterate(p, avail, &vh, &v, &lim, (flags & 32) != 0);
        if (pe != KERR_NONE || rb_size(&h) > avail)
            break;
        pos += rb_size(&h);
    }
    free(buf);
    return 0;
}
