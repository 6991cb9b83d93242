/*
 * record_iter.h - iterate the records of one v2 batch, decompressing if needed.
 *
 * Owns: the decompressed copy of a batch's records (when compressed).  The
 * batch bytes themselves stay the caller's and must outlive the iterator;
 * record key/value pointers point into either the batch or the iterator's
 * buffer and stay valid until rb_iter_free.
 *
 * Record timestamps are the effective ones: with LogAppendTime (attribute
 * bit 3) every record's timestamp is the batch maxTimestamp, as consumers
 * see it.  Offsets are absolute (baseOffset + offsetDelta).
 *
 * Used by ListOffsets (by timestamp, max timestamp) and later by compaction
 * and the group coordinator.  Threads: one iterator per thread.
 */
#ifndef SAMSA_STORAGE_RECORD_ITER_H
#define SAMSA_STORAGE_RECORD_ITER_H

#include "storage/record_batch.h"

typedef struct rb_iter {
    rb_header h;
    uint8_t *owned;             /* decompressed records, or NULL */
    const uint8_t *p, *end;
    int32_t index;
} rb_iter;

typedef struct rb_iter_record {
    int64_t offset;
    int64_t timestamp;
    rb_record r;
} rb_iter_record;

/* `batch` holds a whole batch of `size` bytes.  cap bounds the decompressed
 * size (clamped to COMPRESSION_HARD_CAP).  KERR_NONE or a Kafka code. */
int rb_iter_init(rb_iter *it, const uint8_t *batch, size_t size, size_t cap);
/* Returns 1 with *out filled, 0 after the last record, -1 on corrupt data
 * (bad framing, or fewer/more records than recordsCount says). */
int rb_iter_next(rb_iter *it, rb_iter_record *out);
void rb_iter_free(rb_iter *it);

#endif
