/*
 * log_cleaner.h - log compaction (cleanup.policy=compact): Kafka's log
 * cleaner for one partition log.
 *
 * A compacted log keeps, for every key, at least the record with the
 * highest offset.  The log is two sections:
 *
 *     [log start ........ first dirty) [first dirty ..... first uncleanable) [.. active segment, HW ..)
 *          clean: compacted before        dirty: written since                   never touched
 *
 * The cleaner checkpoint ("first dirty", per partition, in the log dir's
 * cleaner-offset-checkpoint) separates the first two.  The cleanable range
 * ends at the base of the segment holding min(active segment base, the
 * last stable offset (TL16: open transactions are never cleaned), the first dirty segment whose
 * largest timestamp is newer than now - min.compaction.lag.ms), so whole
 * segments only, and never the active one.
 *
 * A pass (plog_clean) does what Kafka's Cleaner.doClean does:
 *   1. Offset map: key -> last offset over the dirty range, keys hashed to
 *      128 bits (24 bytes an entry, bounded by the dedupe buffer).  If the
 *      map fills (90% of its slots), the pass stops where it reached: the
 *      end offset is then the last offset mapped + 1, else the end of the
 *      cleanable range.
 *   2. Recopy every segment from the log's first one up to the end offset,
 *      in groups whose total size fits segment.bytes and segment.index.bytes
 *      (and an int32 offset range), each group into ONE new segment named
 *      after its first segment: <base>.log.cleaned (+ .index/.timeindex).
 *      A record survives unless the map holds a later offset for its key,
 *      it has no key (and is below the end offset), or it is a tombstone
 *      whose batch's delete horizon has passed.  Offsets never change:
 *      batches keep their baseOffset, lastOffsetDelta, producer id/epoch,
 *      base sequence, leader epoch and codec; a batch that lost records is
 *      rebuilt (recompressed with its codec, new CRC), an untouched one is
 *      copied byte for byte.  A batch left with no record is dropped, unless
 *      it is the last batch of a live idempotent producer: it then stays as
 *      an empty batch (recordsCount 0) so the producer's sequence survives
 *      (KIP-98).
 *      Transactions (Kafka's CleanedTransactionMetadata, TL17): the pass
 *      takes the aborted transactions overlapping its range from the
 *      .txnindex files and walks the batches in offset order.  Records of
 *      aborted transactions never enter the offset map and are dropped
 *      (their batch stays empty if it is a live producer's last); a marker
 *      stays while data of its transaction was seen in the walk (a kept
 *      abort marker carries its .txnindex entry into the cleaned segment);
 *      once none is left it gets a delete horizon (now +
 *      delete.retention.ms) and goes at the first pass after it, unless it
 *      holds the last epoch of a live producer (kept empty).
 *   3. Tombstones: the first time a batch holding a surviving tombstone is
 *      cleaned, it gets the delete-horizon bit (attributes bit 6) and
 *      baseTimestamp = now + delete.retention.ms (record timestamp deltas
 *      are rewritten against it).  A later pass after the horizon drops the
 *      tombstones (KIP-534).
 *   4. Swap (Kafka's LocalLog.replaceSegments): fsync the new files, rename
 *      *.cleaned -> *.swap, fsync the dir, then under the log's write lock
 *      retire the old segments (renamed *.deleted, unlinked later by the
 *      log manager: open filerefs keep reading them), rename *.swap to the
 *      final names and put the new segment in their place.  A crash at any
 *      point is finished on load (partition_load.c): *.cleaned is deleted,
 *      a *.log.swap replaces the segments its offset range covers.
 *   The first dirty offset then moves to the end offset.
 *
 * Concurrency: the copy runs without the log's lock, on filerefs taken at
 * the start; appends, reads and flushes go on.  The swap re-checks under
 * the write lock that no segment left the log meanwhile (retention,
 * DeleteRecords, truncation, deletion): if one did, the pass is abandoned
 * (its files are deleted, the checkpoint does not move) and a later pass
 * starts over.  Only one pass runs per log at a time (clean_mu).
 *
 * Memory: the offset map (at most dedupe_buffer_size bytes; it starts
 * small and grows), a read window and a write buffer per pass.  All freed
 * before return.
 */
#ifndef SAMSA_STORAGE_LOG_CLEANER_H
#define SAMSA_STORAGE_LOG_CLEANER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/partition_log.h"

#define LOG_CLEANER_DEFAULT_DEDUPE_BYTES (128LL << 20)   /* log.cleaner.dedupe.buffer.size */
#define LOG_CLEANER_MAP_ENTRY_BYTES 24                   /* 16-byte key hash + 8-byte offset */
#define LOG_CLEANER_MAP_LOAD_FACTOR 0.9                  /* log.cleaner.io.buffer.load.factor */

/* What the cleaner would do with a log now (no I/O beyond header reads). */
typedef struct log_cleaner_info {
    bool compact;                       /* cleanup.policy has compact */
    int64_t first_dirty_offset;         /* the checkpoint, reset to the log start if outside [log start, LEO] */
    int64_t first_uncleanable_offset;   /* base of the first segment that may not be cleaned */
    int64_t clean_bytes;                /* segments below the first dirty offset */
    int64_t cleanable_bytes;            /* segments in [first dirty, first uncleanable) */
    double dirty_ratio;                 /* cleanable / (clean + cleanable); 0 when empty */
    bool need_compaction_now;           /* dirty data older than max.compaction.lag.ms */
    /* Kafka's selection rule: compact && ((need_compaction_now && cleanable_bytes > 0) ||
     * dirty_ratio > min.cleanable.dirty.ratio). */
    bool should_clean;
} log_cleaner_info;

int plog_cleaner_info(plog *l, int64_t now_ms, log_cleaner_info *out);

typedef struct log_cleaner_opts {
    int64_t dedupe_buffer_size;   /* bytes for the offset map; <= 0: 128 MiB.  Tiny values are raised to 64 entries */
    bool force;                   /* clean even if should_clean is false (the range rules still apply) */
    const atomic_bool *abort;     /* optional: when it turns true the pass stops and discards its work */
} log_cleaner_opts;

void log_cleaner_opts_init(log_cleaner_opts *o);   /* 128 MiB, force, no abort flag */

typedef struct log_cleaner_stats {
    bool cleaned;                 /* segments were rewritten */
    bool aborted;                 /* stopped by the abort flag or by a change of the log; nothing swapped after that */
    const char *note;             /* static: why nothing was done, or NULL */
    int64_t first_dirty_offset;   /* dirty range cleaned: [first_dirty_offset, end_offset) */
    int64_t end_offset;           /* the new first dirty offset (checkpoint) */
    int64_t first_uncleanable_offset;
    double dirty_ratio;           /* before the pass */
    bool map_full;                /* the offset map filled: end_offset < first_uncleanable_offset */
    int64_t map_entries;          /* distinct keys in the map */
    int64_t map_records;          /* records read to build it */
    int segments_read, segments_written;
    int64_t bytes_read, bytes_written;
    int64_t batches_read, batches_written, empty_batches_kept;
    int64_t records_read, records_retained;
    int64_t tombstones_removed;   /* tombstones dropped (superseded or past their horizon) */
    int64_t map_us, copy_us, total_us;
} log_cleaner_stats;

/* One cleaning pass over the log (always forced: the dirty ratio is not
 * checked, the range rules are).  Returns KERR_NONE (see st->cleaned /
 * st->aborted / st->note), UNKNOWN_TOPIC_OR_PARTITION (deleted or closed),
 * KAFKA_STORAGE_ERROR (I/O error; the log is unchanged unless the error hit
 * the final renames, which takes the log offline like a failed append),
 * CORRUPT_MESSAGE (a batch failed its CRC or record framing: the log is
 * left as it is).  st may be NULL. */
int plog_clean(plog *l, int64_t now_ms, log_cleaner_stats *st);
int plog_clean_ex(plog *l, int64_t now_ms, const log_cleaner_opts *o, log_cleaner_stats *st);

/* The cleaner checkpoint of the log (-1: never cleaned nor loaded).  The
 * log manager persists it in cleaner-offset-checkpoint and restores it at
 * load with plog_set_cleaner_offset. */
int64_t plog_cleaner_offset(plog *l);
void plog_set_cleaner_offset(plog *l, int64_t offset);

#endif
