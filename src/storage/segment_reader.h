/*
 * segment_reader.h - walk the batches of a .log file through a read buffer.
 *
 * Owns: one read window (malloc'd) over a file descriptor it borrows.
 * Batches are discovered by their 12-byte prefix and 61-byte header only,
 * so scanning a file for offsets costs one pread per ~64 KiB of headers
 * plus bodies, never a read of every byte unless asked (segr_batch or
 * segr_check_crc).  Used by offset lookups, load (LEO of the active
 * segment), recovery, producer-state replay and timestamp search.
 * Threads: one reader per thread; the fd must stay open while in use.
 */
#ifndef SAMSA_STORAGE_SEGMENT_READER_H
#define SAMSA_STORAGE_SEGMENT_READER_H

#include <stdint.h>

#include "storage/record_batch.h"

typedef struct seg_reader {
    int fd;
    int64_t pos;            /* next batch position */
    int64_t end;            /* do not read at or past this position */
    uint8_t *buf;
    size_t cap;
    int64_t win_pos;        /* file position of buf[0] */
    size_t win_len;
} seg_reader;

enum { SEGR_END = 0, SEGR_BATCH = 1, SEGR_IOERR = -1, SEGR_CORRUPT = -2 };

void segr_init(seg_reader *r, int fd, int64_t start, int64_t end);
void segr_free(seg_reader *r);
/* Next batch header.  SEGR_BATCH: *h and *at filled, r->pos moved past the
 * batch.  SEGR_END: r->pos == end.  SEGR_CORRUPT: r->pos stays at the bad
 * batch and *why says what is wrong (size, magic, partial batch). */
int segr_next(seg_reader *r, rb_header *h, int64_t *at, const char **why);
/* Whole bytes of the batch returned by the last segr_next (at, h), valid
 * until the next call; NULL on I/O error or if larger than max_size. */
const uint8_t *segr_batch(seg_reader *r, const rb_header *h, int64_t at, size_t max_size);
/* Check the CRC of that batch by streaming through it (any size).
 * 1 ok, 0 mismatch, -1 I/O error. */
int segr_check_crc(seg_reader *r, const rb_header *h, int64_t at);

#endif
