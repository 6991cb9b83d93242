/* segment_reader.c - see segment_reader.h. */
#include "storage/segment_reader.h"

#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/errors.h"
#include "os/sio.h"

#define SEGR_WINDOW (64 * 1024)

void segr_init(seg_reader *r, int fd, int64_t start, int64_t end)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->pos = start;
    r->end = end;
}

void segr_free(seg_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Make [at, at+need) readable in the window (clipped at r->end).
 * Returns the pointer and *got bytes available, or NULL on I/O error. */
static const uint8_t *window(seg_reader *r, int64_t at, size_t need, size_t *got)
{
    if (at >= r->win_pos && at + (int64_t)need <= r->win_pos + (int64_t)r->win_len) {
        *got = (size_t)(r->win_pos + (int64_t)r->win_len - at);
        return r->buf + (at - r->win_pos);
    }
    size_t want = need > SEGR_WINDOW ? need : SEGR_WINDOW;
    if ((int64_t)want > r->end - at)
        want = (size_t)(r->end - at);
    if (want > r->cap) {
        uint8_t *nb = realloc(r->buf, want);
        if (!nb)
            return NULL;
        r->buf = nb;
        r->cap = want;
    }
    ssize_t n = sio_pread_full(r->fd, r->buf, want, at);
    if (n < 0)
        return NULL;
    r->win_pos = at;
    r->win_len = (size_t)n;
    *got = (size_t)n;
    return r->buf;
}

int segr_next(seg_reader *r, rb_header *h, int64_t *at, const char **why)
{
    *why = NULL;
    if (r->pos >= r->end)
        return SEGR_END;
    size_t got;
    const uint8_t *p = window(r, r->pos, RB_HEADER_SIZE, &got);
    if (!p)
        return SEGR_IOERR;
    int e = rb_parse_header(p, got, h);
    if (e == KERR__AGAIN) {
        *why = "partial batch header at end of file";
        return SEGR_CORRUPT;
    }
    if (e) {
        *why = h->magic != 2 ? "invalid magic byte" : "invalid batch length";
        return SEGR_CORRUPT;
    }
    if ((int64_t)rb_size(h) > r->end - r->pos) {
        *why = "batch extends past end of file (torn write)";
        return SEGR_CORRUPT;
    }
    *at = r->pos;
    r->pos += (int64_t)rb_size(h);
    return SEGR_BATCH;
}

const uint8_t *segr_batch(seg_reader *r, const rb_header *h, int64_t at, size_t max_size)
{
    size_t sz = rb_size(h), got;
    if (sz > max_size)
        return NULL;
    const uint8_t *p = window(r, at, sz, &got);
    return p && got >= sz ? p : NULL;
}

int segr_check_crc(seg_reader *r, const rb_header *h, int64_t at)
{
    size_t left = rb_size(h) - RB_OFF_ATTRIBUTES;
    int64_t pos = at + RB_OFF_ATTRIBUTES;
    uint32_t crc = 0;
    while (left > 0) {
        size_t chunk = left > SEGR_WINDOW ? SEGR_WINDOW : left, got;
        const uint8_t *p = window(r, pos, chunk, &got);
        if (!p || got < chunk)
            return -1;
        crc = crc32c(crc, p, chunk);
        pos += (int64_t)chunk;
        left -= chunk;
    }
    return crc == h->crc ? 1 : 0;
}
