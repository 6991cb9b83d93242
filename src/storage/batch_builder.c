/* batch_builder.c - see batch_builder.h. */
#include "storage/batch_builder.h"

#include <stdlib.h>
#include <string.h>

#include "core/endian.h"
#include "core/errors.h"
#include "core/varint.h"
#include "storage/compression.h"
#include "storage/record_batch.h"

void bb_params_init(bb_params *p)
{
    memset(p, 0, sizeof *p);
    p->leader_epoch = -1;
    p->producer_id = -1;
    p->producer_epoch = -1;
    p->base_sequence = -1;
}

static size_t rec_body_size(const bb_record *r, int64_t ts_delta, int32_t off_delta)
{
    size_t n = 1 + uvarint_size(((uint64_t)ts_delta << 1) ^ (uint64_t)(ts_delta >> 63));
    n += uvarint_size((uint32_t)(((uint32_t)off_delta << 1) ^ (uint32_t)(off_delta >> 31)));
    int32_t kl = r->key ? r->key_len : -1, vl = r->value ? r->value_len : -1;
    n += uvarint_size((uint32_t)(((uint32_t)kl << 1) ^ (uint32_t)(kl >> 31))) + (kl > 0 ? (size_t)kl : 0);
    n += uvarint_size((uint32_t)(((uint32_t)vl << 1) ^ (uint32_t)(vl >> 31))) + (vl > 0 ? (size_t)vl : 0);
    n += 1;                                           /* headers count 0 */
    return n;
}

int bb_build(const bb_params *p, const bb_record *recs, int n, uint8_t **out, size_t *out_len)
{
    int rc = KERR__NOMEM;
    uint8_t *plain = NULL, *comp = NULL, *batch = NULL;
    int64_t base_ts = n > 0 ? recs[0].timestamp : -1, max_ts = -1;
    size_t plain_len = 0;
    for (int i = 0; i < n; i++) {
        size_t b = rec_body_size(&recs[i], recs[i].timestamp - base_ts, i);
        plain_len += uvarint_size((uint32_t)((uint32_t)b << 1)) + b;
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    }
    if (!(plain = malloc(plain_len + 1)))
        goto out;
    uint8_t *w = plain;
    for (int i = 0; i < n; i++) {
        const bb_record *r = &recs[i];
        int64_t tsd = r->timestamp - base_ts;
        size_t b = rec_body_size(r, tsd, i);
        w += varint32_encode(w, (int32_t)b);
        *w++ = 0;
        w += varint64_encode(w, tsd);
        w += varint32_encode(w, i);
        int32_t kl = r->key ? r->key_len : -1, vl = r->value ? r->value_len : -1;
        w += varint32_encode(w, kl);
        if (kl > 0)
            memcpy(w, r->key, (size_t)kl), w += kl;
        w += varint32_encode(w, vl);
        if (vl > 0)
            memcpy(w, r->value, (size_t)vl), w += vl;
        w += varint32_encode(w, 0);
    }
    const uint8_t *body = plain;
    size_t body_len = plain_len;
    if (p->codec != RB_CODEC_NONE) {
        size_t cl;
        int e = codec_compress(p->codec, p->snappy_xerial, plain, plain_len, &comp, &cl);
        if (e) {
            rc = e;
            goto out;
        }
        body = comp;
        body_len = cl;
    }
    size_t total = RB_HEADER_SIZE + body_len;
    if (!(batch = malloc(total)))
        goto out;
    be64_store(batch + RB_OFF_BASE_OFFSET, (uint64_t)p->base_offset);
    be32_store(batch + RB_OFF_LENGTH, (uint32_t)(total - RB_LOG_OVERHEAD));
    be32_store(batch + RB_OFF_LEADER_EPOCH, (uint32_t)p->leader_epoch);
    batch[RB_OFF_MAGIC] = 2;
    be16_store(batch + RB_OFF_ATTRIBUTES, (uint16_t)(p->codec | p->extra_attributes));
    be32_store(batch + RB_OFF_LAST_OFFSET_DELTA, (uint32_t)(n > 0 ? n - 1 : 0));
    be64_store(batch + RB_OFF_BASE_TIMESTAMP, (uint64_t)base_ts);
    be64_store(batch + RB_OFF_MAX_TIMESTAMP, (uint64_t)max_ts);
    be64_store(batch + RB_OFF_PRODUCER_ID, (uint64_t)p->producer_id);
    be16_store(batch + RB_OFF_PRODUCER_EPOCH, (uint16_t)p->producer_epoch);
    be32_store(batch + RB_OFF_BASE_SEQUENCE, (uint32_t)p->base_sequence);
    be32_store(batch + RB_OFF_RECORDS_COUNT, (uint32_t)n);
    memcpy(batch + RB_HEADER_SIZE, body, body_len);
    be32_store(batch + RB_OFF_CRC, rb_compute_crc(batch, total));
    *out = batch;
    *out_len = total;
    batch = NULL;
    rc = KERR_NONE;
out:
    free(plain);
    free(comp);
    free(batch);
    return rc;
}
