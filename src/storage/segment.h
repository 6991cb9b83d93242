/*
 * segment.h - one log segment: <base>.log + <base>.index + <base>.timeindex
 * (+ <base>.txnindex when the segment holds abort markers: txn_index.h).
 *
 * Owns: the segment's files and in-memory state (size, indexes, max
 * timestamp).  The .log file is opened lazily through the process-wide
 * fd cache (fd_cache.h), which may close it again when it has not been
 * used for a while; every use takes its own fileref reference
 * (segment_file_get), so a Fetch response can keep sendfile'ing a range
 * after the segment is deleted, closed or evicted from the cache.  Index
 * files hold no descriptor: they are opened for the few writes they get
 * (flush, roll, close) and mapped read-only when sealed.
 *
 * Invariants:
 *   1. [0, size) of the .log holds whole, valid batches with increasing
 *      offsets, all >= base_offset; nothing is ever rewritten in place.
 *   2. Index entries only point at batch starts below size.  The active
 *      segment's indexes are in memory (MEM) and reach the files by
 *      idxf_persist/idxf_sync; a sealed segment's index files are complete
 *      and trimmed, and mapped lazily on first lookup.
 *   3. max_ts/max_ts_offset are exact when ts_known (the active segment
 *      always; a sealed one after its time index's last entry was read).
 *   4. Only the active segment may have disk blocks allocated past its
 *      size: segment_append reserves them ahead of the writes with
 *      fallocate(FALLOC_FL_KEEP_SIZE) (SEG_PREALLOC_* in segment.c), so
 *      the file's size - what Kafka's layout, recovery, readers and tools
 *      see - stays the end of the last whole batch and the blocks past it
 *      read as nothing.  segment_seal (the roll) trims them with an
 *      ftruncate to the size; a crash or a stop may leave them on the
 *      active segment, whose next roll trims them.
 *
 * Threads: the owning partition log serializes mutation under its write
 * lock.  Lazy state (mapping indexes, reading the last time-index entry or
 * the first batch timestamp) may be filled in by readers holding the
 * partition's read lock; `lazy_mu` serializes that.  The .log descriptor
 * is the fd cache's business (its own locks; any thread).
 */
#ifndef SAMSA_STORAGE_SEGMENT_H
#define SAMSA_STORAGE_SEGMENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/fileref.h"
#include "storage/fd_cache.h"
#include "storage/index_file.h"
#include "storage/record_batch.h"
#include "storage/txn_index.h"

typedef struct segment {
    int64_t base_offset;
    char *dir;                  /* owned copy of the partition dir */
    char *log_path;             /* owned */
    fdc_entry fde;              /* the .log in the fd cache (opened lazily) */
    int64_t size;               /* valid bytes in .log */
    index_file oidx, tidx;
    txn_index txi;              /* aborted transactions (lazily loaded: segment_txn_index) */
    pthread_mutex_t lazy_mu;

    bool ts_known;
    int64_t max_ts;             /* largest batch maxTimestamp, -1 none */
    int64_t max_ts_offset;      /* last offset of the batch holding it */
    bool first_ts_known;
    int64_t first_batch_ts;     /* maxTimestamp of the first batch (roll by time) */
    int64_t created_ms;
    int64_t roll_jitter_ms;
    int32_t bytes_since_index;
    int32_t index_interval;     /* index.interval.bytes, set by the owner */
    int64_t prealloc_end;       /* the .log has blocks allocated up to here (invariant 4);
                                 * 0: none known (a fresh start) */
    bool unflushed;             /* .log written since its last fsync */
    bool indexes_checked;       /* sealed: mapped indexes passed the sanity check */
    bool index_suspect;         /* an offset-index entry disagreed with the log: lookups
                                 * scan from the segment start (atomic access) */
} segment;

/* Where a batch lies in a segment. */
typedef struct segment_pos {
    int64_t pos;
    int32_t size;
    int64_t base_offset, last_offset;
    int32_t leader_epoch;
} segment_pos;

/* Called per batch by scans; return non-zero to stop. */
typedef int (*segment_batch_cb)(void *ctx, const rb_header *h, int64_t pos);

void segment_name(char *out, size_t cap, const char *dir, int64_t base, const char *suffix);

/* Allocate; no I/O. */
segment *segment_new(const char *dir, int64_t base_offset, int64_t now_ms);
void segment_free(segment *s);          /* drops the fileref, frees memory; files stay */

/* Create empty .log/.index/.timeindex (new segment: active, indexes in memory). */
int segment_create(segment *s);
/* Existing files: size from stat.  Indexes stay unloaded. */
int segment_open_existing(segment *s);
/* A NEW reference to the .log file (fileref_unref it when done), opened by
 * its current path if the fd cache does not hold it.  NULL on error (errno;
 * ENOENT if the file is gone). */
fileref *segment_file_get(segment *s);

/* Clean-load of the active segment: load indexes in memory (rebuilding them
 * if they fail the sanity check), then walk batch headers from the last
 * index entry to the end of the file.  *next_offset gets the LEO (base if
 * empty).  Returns 0; 1 if the tail is not well-formed (run recovery);
 * -1 on I/O error.  cb sees the walked batches. */
int segment_load_active(segment *s, int32_t index_interval, int64_t *next_offset,
                        segment_batch_cb cb, void *ctx);

/* Unclean-load: check every batch (size, magic, CRC, offsets increasing and
 * >= min_offset), rebuild both indexes, truncate the file at the first bad
 * batch.  *truncated gets the bytes cut, *why the reason, *next_offset the
 * offset after the last good batch.  cb sees every good batch.  -1 on I/O
 * error. */
int segment_recover(segment *s, int32_t index_interval, int64_t min_offset,
                    segment_batch_cb cb, void *ctx,
                    int64_t *truncated, int64_t *bad_pos, const char **why, int64_t *next_offset);

/* Append whole, already validated batches at the end: ONE pwrite.  On a
 * failed or short write the file is truncated back and nothing changes
 * (returns -1; *fatal set if even the truncate failed). */
int segment_append(segment *s, const uint8_t *data, size_t len, int64_t largest_offset,
                   int64_t largest_ts, int64_t offset_of_max_ts, int32_t index_interval, bool *fatal);

/* Append whole, final batches (offsets, CRC already right) at the end with
 * ONE pwrite, and index each batch with the recovery rule (an entry once
 * more than index.interval bytes precede it since the last entry), so the
 * index is as dense as a recovered segment's.  Used by the log cleaner to
 * fill a new segment; no truncate-back on failure (the caller discards the
 * whole file).  0, or -1 (errno; EINVAL if data is not whole batches). */
int segment_append_batches(segment *s, const uint8_t *data, size_t len);

/* Point the segment's three files at "<base>.log<suffix>",
 * "<base>.index<suffix>", "<base>.timeindex<suffix>" (Kafka's
 * changeFileSuffixes: "" / ".cleaned" / ".swap").  With rename_files the
 * files are renamed (index files first, then the .log, the .txnindex last:
 * it cannot be rebuilt from the .log); without, only the
 * names in memory change (before segment_create).  0, or -1 (errno); on
 * failure some files may already carry the new suffix. */
int segment_set_suffix(segment *s, const char *suffix, bool rename_files);

/* Find the first batch whose last offset >= offset and which starts before
 * limit.  1 found, 0 none, -1 I/O error or corrupt data. */
int segment_find(segment *s, int64_t offset, int64_t limit, segment_pos *out);

/* Scan batch headers in [start_pos, limit) calling cb. 0, or -1. */
int segment_scan(segment *s, int64_t start_pos, int64_t limit, segment_batch_cb cb, void *ctx);

/* Make indexes usable for lookups (lazy map; rebuild if not sane). */
int segment_ensure_indexes(segment *s);
/* Max timestamp (reads the last time-index entry of a sealed segment once). */
int segment_max_timestamp(segment *s, int64_t *ts, int64_t *offset);
/* Timestamp that starts the roll-by-time clock (Kafka's rollingBasedTimestamp). */
int64_t segment_first_batch_ts(segment *s);
bool segment_index_full(segment *s, int32_t segment_index_bytes);

/* The segment's aborted-transaction index, loaded on first use (under
 * lazy_mu).  NULL on an I/O error or a corrupt file (TL2). */
const txn_index *segment_txn_index(segment *s);
/* Append an entry for an abort marker written to this segment (write lock).
 * 0 / -1. */
int segment_txn_append(segment *s, const txn_aborted *a);
/* Recovery: forget the index, the caller re-adds its entries. 0 / -1. */
int segment_txn_reset(segment *s);

/* Drop every batch whose last offset >= offset (truncates at that batch's
 * start).  Returns 0 / -1. */
int segment_truncate_to(segment *s, int64_t offset);

/* fsync .log (if written) and both index files. */
int segment_flush(segment *s);
/* For flushing outside the owner's lock: persist index entries, then
 * return references to the files (up to 3) that were written since their
 * last fsync, clearing the dirty flags.  The caller fdatasyncs and
 * fileref_unrefs them.  A segment with nothing new returns 0 and makes no
 * syscall.  Index entries that find no space (ENOSPC, EDQUOT) stay pending
 * for the next call.  -1 on error. */
int segment_flush_prepare(segment *s, fileref *out[3]);
/* Becoming inactive: final time-index entry, persist indexes, free them. */
int segment_seal(segment *s);
/* Rename files to *.deleted (Kafka's async delete) and drop the fd cache's
 * reference (readers holding one keep reading).  0 / -1. */
int segment_rename_deleted(segment *s);
/* The partition dir was renamed (deletion): point every path at new_dir. */
int segment_set_dir(segment *s, const char *new_dir);
/* Unlink all files of the segment (whatever their current names). */
void segment_unlink(segment *s);

#endif
