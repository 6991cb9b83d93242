/* segment.c - see segment.h. */
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "storage/offset_index.h"
#include "storage/segment_reader.h"
#include "os/sio.h"
#include "storage/time_index.h"

void segment_name(char *out, size_t cap, const char *dir, int64_t base, const char *suffix)
{
    snprintf(out, cap, "%s/%020" PRId64 "%s", dir, base, suffix);
}

segment *segment_new(const char *dir, int64_t base_offset, int64_t now_ms)
{
    char path[4096];
    segment *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base_offset = base_offset;
    s->created_ms = now_ms;
    s->max_ts = -1;
    s->max_ts_offset = base_offset;
    s->first_batch_ts = -1;
    s->index_interval = 4096;
    pthread_mutex_init(&s->lazy_mu, NULL);
    fdc_entry_init(&s->fde);
    s->dir = strdup(dir);
    segment_name(path, sizeof path, dir, base_offset, ".log");
    s->log_path = strdup(path);
    if (!s->dir || !s->log_path)
        goto fail;
    segment_name(path, sizeof path, dir, base_offset, ".index");
    if (idxf_init(&s->oidx, path, OIDX_ENTRY) < 0)
        goto fail;
    segment_name(path, sizeof path, dir, base_offset, ".timeindex");
    if (idxf_init(&s->tidx, path, TIDX_ENTRY) < 0)
        goto fail;
    segment_name(path, sizeof path, dir, base_offset, ".txnindex");
    if (txi_init(&s->txi, path) < 0)
        goto fail;
    return s;
fail:
    segment_free(s);
    return NULL;
}

void segment_free(segment *s)
{
    if (!s)
        return;
    fdc_entry_destroy(&s->fde);
    idxf_free(&s->oidx);
    idxf_free(&s->tidx);
    txi_free(&s->txi);
    pthread_mutex_destroy(&s->lazy_mu);
    free(s->dir);
    free(s->log_path);
    free(s);
}

int segment_create(segment *s)
{
    struct stat st;
    int fd = open(s->log_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /* A new file is empty and needs no fsync of its own (the dir fsync that
     * follows every create makes its entry durable); only emptying a file
     * that held data is a change to sync. */
    bool had_data = fstat(fd, &st) < 0 || st.st_size > 0;
    if (had_data && sio_ftruncate(fd, 0) < 0) {
        close(fd);
        return -1;
    }
    fileref *f = fdc_install(&s->fde, fd);
    if (!f)
        return -1;
    fileref_unref(f);
    if (idxf_create(&s->oidx) < 0 || idxf_create(&s->tidx) < 0 || txi_reset(&s->txi) < 0)
        return -1;
    s->size = 0;
    s->ts_known = true;
    s->max_ts = -1;
    s->max_ts_offset = s->base_offset;
    s->first_ts_known = false;
    s->bytes_since_index = 0;
    s->unflushed = had_data;
    s->indexes_checked = true;
    return 0;
}

int segment_open_existing(segment *s)
{
    struct stat st;
    if (stat(s->log_path, &st) < 0)
        return -1;
    s->size = st.st_size;
    return 0;
}

fileref *segment_file_get(segment *s)
{
    fileref *f = fdc_get(&s->fde, s->log_path);
    if (!f)
        LOG_ERR("storage", "cannot open %s: %s", s->log_path, strerror(errno));
    return f;
}

/* ---- index building shared by append, recovery and rebuild ---- */

typedef struct idx_builder {
    segment *s;
    int64_t last_entry_pos;     /* position of the last indexed batch */
} idx_builder;

static void note_batch_ts(segment *s, const rb_header *h)
{
    if (h->max_timestamp > s->max_ts) {
        s->max_ts = h->max_timestamp;
        s->max_ts_offset = rb_last_offset(h);
    }
}

/* Kafka's LogSegment.recover indexing rule, per batch. */
static void build_index_entry(idx_builder *b, const rb_header *h, int64_t pos)
{
    segment *s = b->s;
    note_batch_ts(s, h);
    if (pos - b->last_entry_pos > s->index_interval) {
        oidx_append(&s->oidx, (int32_t)(rb_last_offset(h) - s->base_offset), (int32_t)pos);
        tidx_maybe_append(&s->tidx, s->max_ts, (int32_t)(s->max_ts_offset - s->base_offset));
        b->last_entry_pos = pos;
    }
}

/* Caller holds lazy_mu. */
static int rebuild_indexes(segment *s)
{
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    if (idxf_create(&s->oidx) < 0 || idxf_create(&s->tidx) < 0) {
        fileref_unref(f);
        return -1;
    }
    s->max_ts = -1;
    s->max_ts_offset = s->base_offset;
    idx_builder b = { s, 0 };
    seg_reader r;
    segr_init(&r, f->fd, 0, s->size);
    rb_header h;
    int64_t at;
    const char *why;
    int rc;
    while ((rc = segr_next(&r, &h, &at, &why)) == SEGR_BATCH)
        build_index_entry(&b, &h, at);
    segr_free(&r);
    fileref_unref(f);
    if (rc != SEGR_END)
        return -1;
    /* The entry segment_seal adds: the time index's last entry must be the
     * segment's largest timestamp (retention and ListOffsets read only it). */
    if (s->max_ts >= 0)
        tidx_maybe_append(&s->tidx, s->max_ts, (int32_t)(s->max_ts_offset - s->base_offset));
    s->ts_known = true;
    s->bytes_since_index = (int32_t)(s->size - b.last_entry_pos);
    return idxf_persist(&s->oidx) < 0 || idxf_persist(&s->tidx) < 0 ? -1 : 0;
}

/* A segment holding data must have both index files: a missing one (deleted
 * while the broker was down) is rebuilt, as Kafka's LogLoader does, instead
 * of being taken for "no entries". */
static bool index_files_missing(const segment *s)
{
    if (s->size <= 0)
        return false;
    return (access(s->oidx.path, F_OK) != 0 && errno == ENOENT) ||
           (access(s->tidx.path, F_OK) != 0 && errno == ENOENT);
}

/* Structural check of both indexes, one pass over the entries (Kafka's
 * AbstractIndex.sanityCheck looks at the last entry only).  Offset index:
 * relative offsets and positions strictly increase and every position lies
 * inside the log.  Time index: timestamps strictly increase (they are never
 * negative) and relative offsets never decrease.  Zeroed or garbled files
 * fail this and are rebuilt from the .log. */
static bool indexes_sane(segment *s)
{
    int32_t pr = -1, pp = -1;
    for (size_t i = 0; i < s->oidx.n; i++) {
        int32_t r, p;
        oidx_get(&s->oidx, i, &r, &p);
        if (r <= pr || p <= pp || p >= s->size)
            return false;
        pr = r;
        pp = p;
    }
    int64_t pt = -1;
    int32_t prr = 0;
    for (size_t i = 0; i < s->tidx.n; i++) {
        int64_t t;
        int32_t r;
        tidx_get(&s->tidx, i, &t, &r);
        if (t <= pt || r < prr)
            return false;
        pt = t;
        prr = r;
    }
    return true;
}

/* Caller holds lazy_mu. */
static int ensure_indexes_locked(segment *s)
{
    int rc = 0;
    if (s->indexes_checked)
        return 0;
    if (index_files_missing(s) || idxf_map(&s->oidx) < 0 || idxf_map(&s->tidx) < 0 ||
        !indexes_sane(s)) {
        LOG_WRN("storage", "index files of %s are missing or corrupt, rebuilding them", s->log_path);
        rc = rebuild_indexes(s);
    }
    if (rc == 0)
        s->indexes_checked = true;
    return rc;
}

int segment_ensure_indexes(segment *s)
{
    pthread_mutex_lock(&s->lazy_mu);
    int rc = ensure_indexes_locked(s);
    pthread_mutex_unlock(&s->lazy_mu);
    return rc;
}

int segment_max_timestamp(segment *s, int64_t *ts, int64_t *offset)
{
    pthread_mutex_lock(&s->lazy_mu);
    if (!s->ts_known) {
        /* The last time-index entry, read without mapping the index (the
         * retention pass asks this of every sealed segment). */
        uint8_t e[TIDX_ENTRY];
        bool found = false;
        int rc = idxf_read_last(&s->tidx, e, &found);
        /* An unchecked time index that is missing, misaligned or empty while
         * the segment holds data is taken as damaged (a sealed segment with
         * timestamps always has an entry): trusting it would hide the segment
         * from retention and ListOffsets.  Rebuild both indexes from the .log
         * (once: that sets max_ts and indexes_checked). */
        if (!s->indexes_checked && s->size > 0 && (rc < 0 || !found)) {
            LOG_WRN("storage", "time index of %s is missing or damaged, rebuilding the indexes",
                    s->log_path);
            rc = rebuild_indexes(s);
            if (rc == 0)
                s->indexes_checked = true;
        }
        if (rc == 0 && !s->ts_known) {
            if (found) {
                s->max_ts = (int64_t)be64_load(e);
                s->max_ts_offset = s->base_offset + (int32_t)be32_load(e + 8);
            }
            s->ts_known = true;
        }
    }
    *ts = s->max_ts;
    *offset = s->max_ts_offset;
    pthread_mutex_unlock(&s->lazy_mu);
    return 0;
}

int64_t segment_first_batch_ts(segment *s)
{
    if (s->first_ts_known || s->size < RB_HEADER_SIZE)
        return s->size < RB_HEADER_SIZE ? -1 : s->first_batch_ts;
    uint8_t h[RB_HEADER_SIZE];
    pthread_mutex_lock(&s->lazy_mu);
    fileref *f = s->first_ts_known ? NULL : segment_file_get(s);
    if (f && sio_pread_full(f->fd, h, sizeof h, 0) == (ssize_t)sizeof h) {
        s->first_batch_ts = (int64_t)be64_load(h + RB_OFF_MAX_TIMESTAMP);
        s->first_ts_known = true;
    }
    fileref_unref(f);
    pthread_mutex_unlock(&s->lazy_mu);
    return s->first_batch_ts;
}

bool segment_index_full(segment *s, int32_t segment_index_bytes)
{
    return s->oidx.n >= (size_t)(segment_index_bytes / OIDX_ENTRY) ||
           s->tidx.n >= (size_t)(segment_index_bytes / TIDX_ENTRY);
}

/* ---- load and recovery ---- */

int segment_load_active(segment *s, int32_t index_interval, int64_t *next_offset,
                        segment_batch_cb cb, void *ctx)
{
    s->index_interval = index_interval;
    if (index_files_missing(s) || idxf_load_mem(&s->oidx) < 0 || idxf_load_mem(&s->tidx) < 0 ||
        !indexes_sane(s))
        return 1;
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    s->indexes_checked = true;
    s->max_ts = -1;
    s->max_ts_offset = s->base_offset;
    if (s->tidx.n) {
        int32_t r;
        tidx_get(&s->tidx, s->tidx.n - 1, &s->max_ts, &r);
        s->max_ts_offset = s->base_offset + r;
    }
    int64_t start = 0, next = s->base_offset;
    if (s->oidx.n) {
        int32_t r, p;
        oidx_get(&s->oidx, s->oidx.n - 1, &r, &p);
        start = p;
    }
    seg_reader rd;
    segr_init(&rd, f->fd, start, s->size);
    rb_header h;
    int64_t at;
    const char *why;
    int rc;
    while ((rc = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH) {
        if (h.base_offset < next || h.last_offset_delta < 0) {
            rc = SEGR_CORRUPT;
            break;
        }
        /* The batches after the last index entry are read anyway to find
         * the log end: check their CRC too, so a tail damaged while the
         * broker was down is caught even after a clean shutdown. */
        int crc = segr_check_crc(&rd, &h, at);
        if (crc <= 0) {
            rc = crc < 0 ? SEGR_IOERR : SEGR_CORRUPT;
            break;
        }
        note_batch_ts(s, &h);
        next = rb_last_offset(&h) + 1;
        if (at == 0) {
            s->first_batch_ts = h.max_timestamp;
            s->first_ts_known = true;
        }
        if (cb)
            cb(ctx, &h, at);
    }
    segr_free(&rd);
    fileref_unref(f);
    if (rc == SEGR_IOERR)
        return -1;
    if (rc == SEGR_CORRUPT)
        return 1;
    s->ts_known = true;
    s->bytes_since_index = (int32_t)(s->size - start);
    *next_offset = next;
    return 0;
}

int segment_recover(segment *s, int32_t index_interval, int64_t min_offset,
                    segment_batch_cb cb, void *ctx,
                    int64_t *truncated, int64_t *bad_pos, const char **why, int64_t *next_offset)
{
    s->index_interval = index_interval;
    *truncated = 0;
    *bad_pos = -1;
    *why = NULL;
    if (segment_open_existing(s) < 0)
        return -1;
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    if (idxf_create(&s->oidx) < 0 || idxf_create(&s->tidx) < 0) {
        fileref_unref(f);
        return -1;
    }
    s->max_ts = -1;
    s->max_ts_offset = s->base_offset;
    s->first_ts_known = false;
    idx_builder b = { s, 0 };
    int64_t next = min_offset > s->base_offset ? min_offset : s->base_offset;
    int64_t valid = 0;
    seg_reader rd;
    segr_init(&rd, f->fd, 0, s->size);
    rb_header h;
    int64_t at;
    int rc;
    while ((rc = segr_next(&rd, &h, &at, why)) == SEGR_BATCH) {
        if (h.base_offset < next) {
            *why = "batch offset is not above the previous batch";
            rc = SEGR_CORRUPT;
            break;
        }
        if (h.last_offset_delta < 0 || rb_last_offset(&h) - s->base_offset > INT32_MAX) {
            *why = "batch offset range is invalid for this segment";
            rc = SEGR_CORRUPT;
            break;
        }
        int c = segr_check_crc(&rd, &h, at);
        if (c < 0) {
            rc = SEGR_IOERR;
            break;
        }
        if (c == 0) {
            *why = "CRC mismatch";
            rc = SEGR_CORRUPT;
            break;
        }
        build_index_entry(&b, &h, at);
        if (at == 0) {
            s->first_batch_ts = h.max_timestamp;
            s->first_ts_known = true;
        }
        next = rb_last_offset(&h) + 1;
        valid = at + (int64_t)rb_size(&h);
        if (cb)
            cb(ctx, &h, at);
    }
    segr_free(&rd);
    if (rc == SEGR_CORRUPT) {
        *bad_pos = valid;
        *truncated = s->size - valid;
        if (sio_ftruncate(f->fd, valid) < 0)
            rc = SEGR_IOERR;
        else
            s->size = valid;
    }
    /* What was kept may have been read from the page cache of a crashed
     * process: it must reach the disk before the recovery point passes it
     * (the load's flush fsyncs it; a clean file costs little). */
    if (s->size > 0)
        s->unflushed = true;
    fileref_unref(f);
    if (rc == SEGR_IOERR)
        return -1;
    s->ts_known = true;
    s->indexes_checked = true;
    s->bytes_since_index = (int32_t)(s->size - b.last_entry_pos);
    *next_offset = next;
    if (idxf_persist(&s->oidx) < 0 || idxf_persist(&s->tidx) < 0)
        return -1;
    return 0;
}

/* ---- append / read ---- */

/*
 * Preallocation of the active segment (invariant 4 in segment.h).  Writing
 * into a hole makes ext4 reserve every new block for delayed allocation in
 * the writer's thread (ext4_da_get_block_prep: the extent-status tree,
 * quota and block reservations, per 4 KiB page), about a tenth of the
 * broker's CPU at 1 KiB messages; blocks that fallocate already mapped
 * (unwritten extents) skip it, and one fallocate call maps megabytes.  The
 * reservation ahead grows with the segment - as much as it already holds,
 * from SEG_PREALLOC_MIN to SEG_PREALLOC_MAX - so 10,000 quiet partitions
 * reserve 64 KiB each, not megabytes.  KEEP_SIZE leaves the file size
 * alone: nothing a reader, recovery or Kafka's tools see changes.  File
 * systems without fallocate (EOPNOTSUPP) turn it off for the process; a
 * failure (ENOSPC) is left to the write itself.
 */
#define SEG_PREALLOC_MIN (64 * 1024)
#define SEG_PREALLOC_MAX (8 * 1024 * 1024)

static _Atomic bool prealloc_unsupported;

static void prealloc_ahead(segment *s, int fd, int64_t end)
{
    if (end <= s->prealloc_end || atomic_load_explicit(&prealloc_unsupported, memory_order_relaxed))
        return;
    int64_t ahead = end < SEG_PREALLOC_MIN ? SEG_PREALLOC_MIN : end > SEG_PREALLOC_MAX ? SEG_PREALLOC_MAX : end;
    int64_t from = s->prealloc_end > s->size ? s->prealloc_end : s->size;
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, from, end + ahead - from) == 0) {
        s->prealloc_end = end + ahead;
        return;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        atomic_store_explicit(&prealloc_unsupported, true, memory_order_relaxed);
        LOG_INF("storage", "%s: fallocate not supported here: segments are not preallocated", s->dir);
    }
    s->prealloc_end = end;   /* no retry for these bytes; the write reports ENOSPC itself */
}

/* Release the blocks allocated past the size (ext4, xfs and the others free
 * them on a truncate even to the same size). */
static int prealloc_trim(segment *s)
{
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    int rc = sio_ftruncate(f->fd, s->size);
    fileref_unref(f);
    if (rc == 0)
        s->prealloc_end = 0;
    return rc;
}

int segment_append(segment *s, const uint8_t *data, size_t len, int64_t largest_offset,
                   int64_t largest_ts, int64_t offset_of_max_ts, int32_t index_interval, bool *fatal)
{
    *fatal = false;
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    int64_t pos = s->size;
    prealloc_ahead(s, f->fd, pos + (int64_t)len);
    if (sio_pwrite_all(f->fd, data, len, pos) < 0) {
        int e = errno;
        if (sio_ftruncate(f->fd, pos) < 0)
            *fatal = true;
        fileref_unref(f);
        errno = e;
        return -1;
    }
    fileref_unref(f);
    s->size += (int64_t)len;
    s->unflushed = true;
    s->index_interval = index_interval;
    if (pos == 0 && len >= RB_HEADER_SIZE) {
        s->first_batch_ts = (int64_t)be64_load(data + RB_OFF_MAX_TIMESTAMP);
        s->first_ts_known = true;
    }
    if (largest_ts > s->max_ts) {
        s->max_ts = largest_ts;
        s->max_ts_offset = offset_of_max_ts;
    }
    if (s->bytes_since_index > index_interval) {
        /* Memory-only: a failed allocation just leaves the index sparser. */
        oidx_append(&s->oidx, (int32_t)(largest_offset - s->base_offset), (int32_t)pos);
        tidx_maybe_append(&s->tidx, s->max_ts, (int32_t)(s->max_ts_offset - s->base_offset));
        s->bytes_since_index = 0;
    }
    s->bytes_since_index += (int32_t)len;
    return 0;
}

int segment_append_batches(segment *s, const uint8_t *data, size_t len)
{
    /* Check the framing first: nothing is written unless it is whole batches. */
    for (size_t off = 0; off < len;) {
        rb_header h;
        if (rb_parse_header(data + off, len - off, &h) != KERR_NONE || rb_size(&h) > len - off) {
            errno = EINVAL;
            return -1;
        }
        off += rb_size(&h);
    }
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    int64_t pos0 = s->size;
    int w = sio_pwrite_all(f->fd, data, len, pos0);
    fileref_unref(f);
    if (w < 0)
        return -1;
    idx_builder b = { s, s->size - s->bytes_since_index };
    for (size_t off = 0; off < len;) {
        rb_header h;
        rb_parse_header(data + off, len - off, &h);
        int64_t pos = pos0 + (int64_t)off;
        build_index_entry(&b, &h, pos);
        if (pos == 0) {
            s->first_batch_ts = h.max_timestamp;
            s->first_ts_known = true;
        }
        off += rb_size(&h);
    }
    s->size += (int64_t)len;
    s->bytes_since_index = (int32_t)(s->size - b.last_entry_pos);
    s->unflushed = true;
    return 0;
}

int segment_set_suffix(segment *s, const char *suffix, bool rename_files)
{
    char lp[4200], ip[4200], tp[4200], xp[4200];
    snprintf(lp, sizeof lp, "%s/%020" PRId64 ".log%s", s->dir, s->base_offset, suffix);
    snprintf(ip, sizeof ip, "%s/%020" PRId64 ".index%s", s->dir, s->base_offset, suffix);
    snprintf(tp, sizeof tp, "%s/%020" PRId64 ".timeindex%s", s->dir, s->base_offset, suffix);
    char *nl = strdup(lp);
    if (!nl)
        return -1;
    if (rename_files) {
        if (idxf_rename(&s->oidx, ip) < 0 || idxf_rename(&s->tidx, tp) < 0 ||
            sio_rename(s->log_path, lp) < 0) {
            free(nl);
            return -1;
        }
    } else {
        char *ni = strdup(ip), *nt = strdup(tp);
        if (!ni || !nt) {
            free(ni);
            free(nt);
            free(nl);
            return -1;
        }
        free(s->oidx.path);
        s->oidx.path = ni;
        free(s->tidx.path);
        s->tidx.path = nt;
    }
    free(s->log_path);
    s->log_path = nl;
    /* The .txnindex last: unlike the offset and time indexes it cannot be
     * rebuilt from the .log alone, so a crash mid-swap must leave it as
     * <base>.txnindex.swap (the load renames it into place) and never as a
     * final name the load would delete with the replaced segments. */
    snprintf(xp, sizeof xp, "%s/%020" PRId64 ".txnindex%s", s->dir, s->base_offset, suffix);
    return txi_set_path(&s->txi, xp, rename_files);
}

int segment_find(segment *s, int64_t offset, int64_t limit, segment_pos *out)
{
    if (segment_ensure_indexes(s) < 0)
        return -1;
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    int64_t rel64 = offset - s->base_offset;
    int32_t rel = rel64 < 0 ? 0 : rel64 > INT32_MAX ? INT32_MAX : (int32_t)rel64;
    int32_t er, ep;
    oidx_lookup(&s->oidx, rel, &er, &ep);
    if (ep >= limit || __atomic_load_n(&s->index_suspect, __ATOMIC_RELAXED))
        ep = 0;
    seg_reader rd;
    rb_header h;
    int64_t at;
    const char *why;
    int rc, found;
again:
    found = 0;
    segr_init(&rd, f->fd, ep, limit);
    bool first = ep > 0;
    while ((rc = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH) {
        /* The entry (er, ep) says an append ending at offset base+er starts
         * at ep; a batch starting later than that means the entry is wrong. */
        if (first && h.base_offset > s->base_offset + er) {
            rc = SEGR_CORRUPT;
            why = "batch offsets do not match the index entry";
            break;
        }
        first = false;
        if (rb_last_offset(&h) >= offset) {
            out->pos = at;
            out->size = (int32_t)rb_size(&h);
            out->base_offset = h.base_offset;
            out->last_offset = rb_last_offset(&h);
            out->leader_epoch = h.leader_epoch;
            found = 1;
            break;
        }
    }
    segr_free(&rd);
    if (rc == SEGR_CORRUPT && ep > 0) {
        /* A damaged index entry that passed the structural check (the .log
         * itself is checked by load/recovery): look up from the start of
         * the segment instead, now and from now on, rather than failing. */
        if (!__atomic_exchange_n(&s->index_suspect, true, __ATOMIC_RELAXED))
            LOG_WRN("storage", "%s: offset index entry (%" PRId32 ", %" PRId32 ") for offset %" PRId64
                    " does not match the log (%s); scanning this segment from its start",
                    s->log_path, er, ep, offset, why);
        ep = 0;
        goto again;
    }
    if (rc == SEGR_IOERR || rc == SEGR_CORRUPT) {
        LOG_ERR("storage", "%s: %s at position %" PRId64 " while looking up offset %" PRId64,
                s->log_path, rc == SEGR_IOERR ? strerror(errno) : why, rd.pos, offset);
        found = -1;
    }
    fileref_unref(f);
    return found;
}

int segment_scan(segment *s, int64_t start_pos, int64_t limit, segment_batch_cb cb, void *ctx)
{
    fileref *f = segment_file_get(s);
    if (!f)
        return -1;
    seg_reader rd;
    segr_init(&rd, f->fd, start_pos, limit);
    rb_header h;
    int64_t at;
    const char *why;
    int rc;
    while ((rc = segr_next(&rd, &h, &at, &why)) == SEGR_BATCH)
        if (cb(ctx, &h, at))
            break;
    segr_free(&rd);
    fileref_unref(f);
    return rc == SEGR_IOERR || rc == SEGR_CORRUPT ? -1 : 0;
}

/* ---- truncation, flush, seal, delete ---- */

static void recompute_tail_state(segment *s)
{
    s->max_ts = -1;
    s->max_ts_offset = s->base_offset;
    if (s->tidx.n) {
        int32_t r;
        tidx_get(&s->tidx, s->tidx.n - 1, &s->max_ts, &r);
        s->max_ts_offset = s->base_offset + r;
    }
    int64_t start = 0;
    if (s->oidx.n) {
        int32_t r, p;
        oidx_get(&s->oidx, s->oidx.n - 1, &r, &p);
        start = p;
    }
    fileref *f = segment_file_get(s);
    if (f) {
        seg_reader rd;
        segr_init(&rd, f->fd, start, s->size);
        rb_header h;
        int64_t at;
        const char *why;
        while (segr_next(&rd, &h, &at, &why) == SEGR_BATCH)
            note_batch_ts(s, &h);
        segr_free(&rd);
        fileref_unref(f);
    }
    s->ts_known = true;
    s->bytes_since_index = (int32_t)(s->size - start);
    if (s->size == 0) {
        s->first_ts_known = false;
        s->first_batch_ts = -1;
    }
}

const txn_index *segment_txn_index(segment *s)
{
    pthread_mutex_lock(&s->lazy_mu);
    /* a batch is at least RB_HEADER_SIZE bytes: no more aborts than that */
    int rc = s->txi.loaded ? 0 : txi_load(&s->txi, (size_t)(s->size / RB_HEADER_SIZE) + 1);
    pthread_mutex_unlock(&s->lazy_mu);
    return rc < 0 ? NULL : &s->txi;
}

int segment_txn_append(segment *s, const txn_aborted *a)
{
    if (!segment_txn_index(s))
        return -1;
    return txi_append(&s->txi, a);
}

int segment_txn_reset(segment *s)
{
    pthread_mutex_lock(&s->lazy_mu);
    int rc = txi_reset(&s->txi);
    pthread_mutex_unlock(&s->lazy_mu);
    return rc;
}

int segment_truncate_to(segment *s, int64_t offset)
{
    if (txi_truncate_to(&s->txi, offset) < 0)
        return -1;
    segment_pos p;
    int r = segment_find(s, offset, s->size, &p);
    if (r < 0)
        return -1;
    if (r == 0)
        return 0;
    if (idxf_to_mem(&s->oidx) < 0 || idxf_to_mem(&s->tidx) < 0)
        return -1;
    fileref *f = segment_file_get(s);
    int t = f ? sio_ftruncate(f->fd, p.pos) : -1;
    fileref_unref(f);
    if (t < 0)
        return -1;
    s->size = p.pos;
    s->prealloc_end = 0;            /* the truncate released them too */
    s->unflushed = true;
    int32_t rel = (int32_t)(offset - s->base_offset);
    if (oidx_truncate_to(&s->oidx, rel) < 0 || oidx_truncate_to_pos(&s->oidx, p.pos) < 0 ||
        tidx_truncate_to(&s->tidx, rel) < 0)
        return -1;
    recompute_tail_state(s);
    return 0;
}

int segment_flush(segment *s)
{
    fileref *fs[3];
    int n = segment_flush_prepare(s, fs);
    if (n < 0)
        return -1;
    int rc = txi_sync(&s->txi);
    for (int i = 0; i < n; i++) {
        if (sio_fdatasync(fs[i]->fd) < 0)
            rc = -1;
        fileref_unref(fs[i]);
    }
    return rc;
}

int segment_flush_prepare(segment *s, fileref *out[3])
{
    int n = 0;
    if (s->unflushed) {
        /* An fd the cache closed since the write is reopened: fsync covers
         * the file's dirty pages whichever descriptor wrote them. */
        if (!(out[n] = segment_file_get(s)))
            return -1;
        n++;
        s->unflushed = false;
    }
    index_file *ix[2] = { &s->oidx, &s->tidx };
    for (int i = 0; i < 2; i++) {
        int fd;
        if (idxf_sync_prepare(ix[i], &fd) < 0) {
            /* A full disk: the new entries stay in memory and the next
             * flush writes them.  An index that lacks its newest entries
             * is still a valid, sparser one (lookups scan further), so the
             * data can be made durable without them. */
            if (errno == ENOSPC || errno == EDQUOT) {
                LOG_WRN("storage", "%s: no space to write index entries, retrying at the next flush",
                        ix[i]->path);
                continue;
            }
            goto fail;
        }
        if (fd < 0)
            continue;
        if (!(out[n] = fileref_new(fd)))
            goto fail;
        n++;
    }
    return n;
fail:
    while (n > 0)
        fileref_unref(out[--n]);
    return -1;
}

int segment_seal(segment *s)
{
    /* Always, not only after this process's appends: a crash may have left
     * blocks past the size of what was then the active segment. */
    if (prealloc_trim(s) < 0)
        LOG_WRN("storage", "%s: cannot release the blocks allocated past its end: %s", s->log_path,
                strerror(errno));
    if (s->ts_known && s->max_ts >= 0)
        tidx_maybe_append(&s->tidx, s->max_ts, (int32_t)(s->max_ts_offset - s->base_offset));
    pthread_mutex_lock(&s->lazy_mu);
    int rc = idxf_unload(&s->oidx) < 0 || idxf_unload(&s->tidx) < 0 ? -1 : 0;
    s->indexes_checked = false;
    pthread_mutex_unlock(&s->lazy_mu);
    return rc;
}

int segment_rename_deleted(segment *s)
{
    char np[4200];
    snprintf(np, sizeof np, "%s.deleted", s->log_path);
    if (sio_rename(s->log_path, np) < 0 && errno != ENOENT)
        return -1;
    char *dup = strdup(np);
    if (dup) {
        free(s->log_path);
        s->log_path = dup;
    }
    snprintf(np, sizeof np, "%s.deleted", s->oidx.path);
    idxf_rename(&s->oidx, np);
    snprintf(np, sizeof np, "%s.deleted", s->tidx.path);
    idxf_rename(&s->tidx, np);
    snprintf(np, sizeof np, "%s.deleted", s->txi.path);
    txi_set_path(&s->txi, np, true);
    fdc_close(&s->fde);              /* never read through the cache again */
    return 0;
}

/* dir + the part of `path` after its last '/' (malloc'd). */
static char *rebase(const char *new_dir, const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t n = strlen(new_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", new_dir, name);
    return p;
}

int segment_set_dir(segment *s, const char *new_dir)
{
    char *d = strdup(new_dir), *lp = rebase(new_dir, s->log_path);
    char *ip = rebase(new_dir, s->oidx.path), *tp = rebase(new_dir, s->tidx.path);
    if (!d || !lp || !ip || !tp) {
        free(d);
        free(lp);
        free(ip);
        free(tp);
        return -1;
    }
    free(s->dir);
    s->dir = d;
    free(s->log_path);
    s->log_path = lp;
    free(s->oidx.path);
    s->oidx.path = ip;
    free(s->tidx.path);
    s->tidx.path = tp;
    char *xp = rebase(new_dir, s->txi.path);
    if (!xp)
        return -1;
    free(s->txi.path);
    s->txi.path = xp;
    return 0;
}

void segment_unlink(segment *s)
{
    unlink(s->log_path);
    unlink(s->oidx.path);
    unlink(s->tidx.path);
    unlink(s->txi.path);
}
