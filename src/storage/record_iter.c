/* record_iter.c - see record_iter.h. */
#include "storage/record_iter.h"

#include <stdlib.h>

#include "core/errors.h"
#include "storage/compression.h"

int rb_iter_init(rb_iter *it, const uint8_t *batch, size_t size, size_t cap)
{
    it->owned = NULL;
    it->index = 0;
    int e = rb_parse_header(batch, size, &it->h);
    if (e == KERR__AGAIN || (e == KERR_NONE && rb_size(&it->h) > size))
        return KERR_CORRUPT_MESSAGE;
    if (e)
        return e;
    const uint8_t *rec = batch + RB_HEADER_SIZE;
    size_t rec_len = rb_size(&it->h) - RB_HEADER_SIZE;
    if (rb_codec(&it->h) == RB_CODEC_NONE) {
        it->p = rec;
        it->end = rec + rec_len;
        return KERR_NONE;
    }
    size_t outl;
    e = codec_decompress(rb_codec(&it->h), rec, rec_len, cap, &it->owned, &outl);
    if (e)
        return e;
    it->p = it->owned;
    it->end = it->owned + outl;
    return KERR_NONE;
}

int rb_iter_next(rb_iter *it, rb_iter_record *out)
{
    if (it->index >= it->h.records_count)
        return it->p == it->end ? 0 : -1;
    if (it->p >= it->end || rb_record_next(&it->p, it->end, it->h.base_timestamp, &out->r) != KERR_NONE)
        return -1;
    it->index++;
    out->offset = it->h.base_offset + out->r.offset_delta;
    out->timestamp = rb_is_log_append_time(&it->h) ? it->h.max_timestamp : out->r.timestamp;
    return 1;
}

void rb_iter_free(rb_iter *it)
{
    free(it->owned);
    it->owned = NULL;
}
