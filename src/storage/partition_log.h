/*
 * partition_log.h - one partition's log: THE storage API the broker uses.
 *
 * A plog is a partition directory <topic>-<partition> holding segments
 * (segment.h), producer-state snapshots (producer_state.h), the
 * leader-epoch-checkpoint (leader_epoch.h) and partition.metadata.  It
 * appends validated client batches (a leader) or the leader's batches as
 * they are (a follower), keeps the high watermark, serves reads as file
 * ranges (for sendfile) up to the HW or, for replicas, the LEO, answers
 * ListOffsets and OffsetForLeaderEpoch, moves the log start (DeleteRecords,
 * retention), truncates (replication) and flushes.  docs/storage-format.md
 * §11 describes the replication side and its invariants S1-S8.  Compaction of logs
 * with cleanup.policy=compact is in log_cleaner.h (plog_clean).
 *
 * Invariants (the S-numbers are docs/storage-format.md §11's):
 *   1. log_start <= high watermark <= log end offset (LEO) (S1); recovery
 *      point <= LEO and every byte below it has been fsynced.
 *   2. Segments are in ascending base offset order; only the last (active)
 *      one is appended to; segments never overlap.
 *   3. Consumer reads never return bytes past the file position of the HW;
 *      only replica reads (PLOG_ISOLATION_LOG_END) go on to the LEO (S3).
 *   4. After any failed write the log is as before the call; if it cannot
 *      be restored (truncate failed) or an fsync failed, the log enters a
 *      failed state and every later append/flush returns
 *      KAFKA_STORAGE_ERROR (like SQLite's pager ERROR state) until reopened.
 *
 * Threads: every function is thread-safe.  A rwlock guards the log: appends,
 * truncation, retention and config changes take it for writing; reads and
 * ListOffsets for reading (their preads run under it, appends wait).
 * plog_flush does its fsyncs without holding it.  Lifetime is refcounted
 * (plog_ref/plog_unref); the log manager holds one reference.
 *
 * Memory: results hand out filerefs the caller must fileref_unref; the
 * error_message strings are static.
 */
#ifndef SAMSA_STORAGE_PARTITION_LOG_H
#define SAMSA_STORAGE_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fileref.h"
#include "core/uuid.h"

/* Kafka's default max.message.bytes (1 MiB plus the record batch overhead). */
#define PLOG_DEFAULT_MAX_MESSAGE_BYTES 1048588

typedef struct log_config {      /* effective per-partition config (topic overrides already applied by the caller) */
    int64_t segment_bytes;        /* segment.bytes, default 1073741824 */
    int64_t segment_ms;           /* segment.ms (log.roll.ms/hours), default 604800000 */
    int64_t segment_jitter_ms;    /* segment.jitter.ms, 0 */
    int32_t segment_index_bytes;  /* segment.index.bytes, 10485760 */
    int32_t index_interval_bytes; /* index.interval.bytes, 4096 */
    int64_t retention_ms;         /* retention.ms; -1 = unlimited; default 604800000 */
    int64_t retention_bytes;      /* retention.bytes; -1 = unlimited (default) */
    int32_t max_message_bytes;    /* max.message.bytes, PLOG_DEFAULT_MAX_MESSAGE_BYTES */
    int64_t flush_messages;       /* flush.messages; INT64_MAX = leave to OS (default) */
    int64_t flush_ms;             /* flush.ms; INT64_MAX default */
    int timestamp_type;           /* message.timestamp.type: 0 CreateTime (default), 1 LogAppendTime */
    int64_t timestamp_before_max_ms, timestamp_after_max_ms; /* INT64_MAX: no limit */
    int64_t file_delete_delay_ms; /* file.delete.delay.ms 60000 */
    int64_t producer_id_expiration_ms; /* producer.id.expiration.ms 86400000 */
    bool compact;                 /* cleanup.policy contains compact (records need keys; the cleaner compacts the log) */
    bool delete_retention;        /* cleanup.policy contains delete (default true) */
    /* Compaction (used only when compact; see log_cleaner.h): */
    double min_cleanable_ratio;   /* min.cleanable.dirty.ratio 0.5 */
    int64_t min_compaction_lag_ms;/* min.compaction.lag.ms 0 */
    int64_t max_compaction_lag_ms;/* max.compaction.lag.ms INT64_MAX */
    int64_t delete_retention_ms;  /* delete.retention.ms 86400000: tombstones live this long after their segment was cleaned */
} log_config;

void log_config_defaults(log_config *c);

typedef struct plog plog;

/* ---- lifetime ---- */

/* Create a new empty partition dir <log_dir>/<topic>-<partition> with
 * partition.metadata and an empty segment at offset 0.  Fails
 * (KERR_TOPIC_ALREADY_EXISTS) if the dir exists.  Usually called through
 * log_manager_create_partition. */
int plog_create(const char *log_dir, const char *topic, int32_t partition, kuuid topic_id,
                const log_config *cfg, int64_t now_ms, plog **out);

typedef struct plog_load_params {
    bool clean_shutdown;        /* the log dir had .kafka_cleanshutdown */
    int64_t recovery_point;     /* from recovery-point-offset-checkpoint, -1 unknown */
    int64_t log_start_offset;   /* from log-start-offset-checkpoint, -1 unknown */
    int64_t now_ms;
    /* From replication-offset-checkpoint, clamped to [log start, LEO].
     * hw_known false (a log opened on its own: tests, tools): HW = LEO. */
    bool hw_known;
    int64_t high_watermark;
} plog_load_params;

/* Open an existing partition dir (path to <topic>-<partition>), running
 * recovery when the shutdown was unclean (see docs/storage-format.md). */
int plog_load(const char *dir, const char *topic, int32_t partition, const log_config *cfg,
              const plog_load_params *lp, plog **out);

plog *plog_ref(plog *l);
/* Dropping the last reference closes the files (no flush: use plog_close). */
void plog_unref(plog *l);
/* Clean close: flush, write the producer snapshot and leader-epoch file,
 * leave index files trimmed.  The plog refuses appends afterwards; the
 * memory goes with the last plog_unref.  Returns KERR_NONE or
 * KAFKA_STORAGE_ERROR. */
int plog_close(plog *l);

kuuid plog_topic_id(const plog *l);

/* ---- produce ---- */

typedef struct plog_append_result {
    int16_t error;             /* KERR_NONE or the Kafka code for the whole partition */
    int64_t base_offset, last_offset;   /* assigned (or the original ones for a duplicate) */
    int64_t log_append_time;   /* -1 unless LogAppendTime */
    int64_t log_start_offset;
    int32_t record_count;
    bool duplicate;            /* idempotent retry: nothing written */
    bool flush_needed;         /* unflushed messages reached flush.messages: request a flush and wait for it before acking */
    int64_t end_offset;        /* LEO after append */
    /* Produce v8+ RecordErrors: BatchIndex is the index of the offending
     * record inside its batch (-1 if not record-specific). */
    int32_t bad_batch_index;
    const char *error_message; /* static text or NULL */
} plog_append_result;

/* `data` holds one or more concatenated v2 batches exactly as received (the
 * caller owns it; it is modified in place: baseOffset, partitionLeaderEpoch,
 * and maxTimestamp/attributes + CRC when the timestamp must be rewritten).
 * Validates everything (record_batch.h lists the errors), runs idempotence
 * checks, assigns offsets, rolls the segment if needed and writes with ONE
 * pwrite.  Trailing bytes that are not a whole batch are rejected
 * (CORRUPT_MESSAGE).  Note Produce v3+ allows exactly one batch per
 * partition: that rule is the Produce handler's (INVALID_RECORD).
 * A failed or short write (ENOSPC, EIO) truncates the file back and returns
 * KAFKA_STORAGE_ERROR.  Returns res->error. */
int plog_append(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                plog_append_result *res);

/* Append as a follower (Kafka's appendAsFollower): `data` holds whole v2
 * batches fetched from the leader (a trailing partial batch is ignored),
 * carrying the leader's base offsets and partition leader epochs, which are
 * kept (nothing is rewritten).  Checks framing, magic and CRC
 * (CORRUPT_MESSAGE), that the first offset is not below the LEO
 * (KERR__APPEND_OFFSET: the caller truncates or, for an empty log, restarts
 * it at that offset) and that offsets strictly increase (KERR__OFFSETS_
 * OUT_OF_ORDER).  A gap above the LEO is kept as in Kafka (a compacted
 * leader).  No producer-sequence checks, but the producer state and the
 * epoch cache are updated from every batch.  Same steps, single write,
 * failure handling and flush accounting as plog_append; the HW is not
 * touched (the caller sets the leader's).  An empty `data` is a no-op.
 * Returns res->error. */
int plog_append_follower(plog *l, uint8_t *data, size_t len, int64_t now_ms, plog_append_result *res);

/* Append batches written by a coordinator for a producer (Kafka's
 * AppendOrigin.COORDINATOR: the group coordinator's TxnOffsetCommit
 * records, transactional batches carrying the producer's id and epoch).
 * As plog_append, except that producer sequence numbers are not checked
 * (the epoch is).  docs/transactions.md. */
/* KIP-890 part 1 (producer_state.h TV1-TV3).  plog_txn_verify_start:
 * the guard an append of the producer's transactional batch must present,
 * 0 when its transaction is already open at that epoch (no verification
 * needed; 0 is never a valid guard).  The _verified appends are
 * plog_append / plog_append_coordinator plus TV1: a transactional batch
 * that would open its producer's transaction without the current guard is
 * INVALID_TXN_STATE, nothing written. */
uint64_t plog_txn_verify_start(plog *l, int64_t producer_id, int16_t producer_epoch, int64_t now_ms);
int plog_append_verified(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                         uint64_t guard, plog_append_result *res);
int plog_append_coordinator_verified(plog *l, uint8_t *data, size_t len, int32_t leader_epoch,
                                     int64_t now_ms, uint64_t guard, plog_append_result *res);
int plog_append_coordinator(plog *l, uint8_t *data, size_t len, int32_t leader_epoch, int64_t now_ms,
                            plog_append_result *res);

/* Write a transaction marker (Kafka's appendAsLeader of an
 * EndTransactionMarker) for producer_id: a control batch with attributes
 * transactional|control, the producer id/epoch, base sequence -1 and one
 * record: key = version i16 0 + type i16 (0 abort, 1 commit), value =
 * version i16 0 + coordinator_epoch i32 (TL10).  Closes the producer's open
 * transaction (TL5); an abort adds the .txnindex entry (TL11).  Errors:
 * INVALID_PRODUCER_EPOCH (older producer epoch), TRANSACTION_COORDINATOR_
 * FENCED (older coordinator epoch than the producer state holds), the
 * append errors (KAFKA_STORAGE_ERROR...).  res->base_offset = the marker's
 * offset.  Returns res->error. */
int plog_append_marker(plog *l, int64_t producer_id, int16_t producer_epoch, bool commit,
                       int32_t coordinator_epoch, int32_t leader_epoch, int64_t now_ms,
                       plog_append_result *res);

/* ---- fetch ---- */

/* An aborted transaction as Fetch returns it (FetchResponse AbortedTransaction). */
typedef struct plog_aborted {
    int64_t producer_id, first_offset;
} plog_aborted;

/* Most aborted transactions one read returns (TL12: the natural bound is
 * the transactions overlapping the fetched range; this is a safety cap). */
#define PLOG_MAX_ABORTED 100000

typedef struct plog_read_result {
    int16_t error;              /* NONE, OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR */
    fileref *file;              /* NULL if nothing to send; else caller must fileref_unref */
    int64_t file_pos;
    int32_t len;                /* whole batches from the one holding `offset`; may end with a partial batch when max_bytes cuts it, like Kafka */
    int64_t high_watermark, last_stable_offset, log_start_offset, log_end_offset;
    /* PLOG_ISOLATION_COMMITTED with data: the aborted transactions
     * overlapping the returned range (malloc'd; free() it or use
     * plog_read_result_free). */
    plog_aborted *aborted;
    int naborted;
} plog_read_result;

/* fileref_unref the file and free the aborted list. */
void plog_read_result_free(plog_read_result *res);

/* Kafka's collectAbortedTxns: aborted transactions overlapping [from,
 * upper) from the .txnindex files.  *out malloc'd (free it). */
int plog_aborted_txns(plog *l, int64_t from, int64_t upper, plog_aborted **out, int *n);

/* The last stable offset (TL9): min(HW, first offset of the oldest open
 * transaction, first offsets of completed transactions whose marker is not
 * below the HW yet) - Kafka's firstUnstableOffset bounded by the HW. */
int64_t plog_last_stable_offset(plog *l);

/* Upper bounds of a read (Kafka's FetchIsolation).  0 and 1 are the wire's
 * isolation_level values, so a consumer Fetch passes its own. */
enum {
    PLOG_ISOLATION_HW = 0,          /* READ_UNCOMMITTED: up to the high watermark */
    PLOG_ISOLATION_COMMITTED = 1,   /* READ_COMMITTED: up to the last stable offset */
    PLOG_ISOLATION_LOG_END = 2,     /* replica fetch (followers): up to the LEO */
};

/* Read from `offset`: OFFSET_OUT_OF_RANGE unless log_start <= offset <= LEO.
 * The upper bound is set by `isolation` (above); at or above it there is
 * no data and no error.  READ_COMMITTED also fills res->aborted with the
 * aborted transactions overlapping the returned data (TL12).  With min_one_batch the whole first batch is returned
 * even if larger than max_bytes (KIP-74).  One segment per call.  The first
 * batch may start below `offset` (the client skips records). */
int plog_read(plog *l, int64_t offset, int32_t max_bytes, bool min_one_batch, int isolation,
              plog_read_result *res);

/* ---- ListOffsets ---- */

#define PLOG_TS_LATEST         (-1)
#define PLOG_TS_EARLIEST       (-2)
#define PLOG_TS_MAX_TIMESTAMP  (-3)
#define PLOG_TS_EARLIEST_LOCAL (-4)
#define PLOG_TS_LATEST_TIERED  (-5)

/* isolation: PLOG_ISOLATION_HW or _COMMITTED (ListOffsets v2+
 * isolation_level): the bound is then the LSO instead of the HW.
 * -2/-4: log start (ts -1); -1: HW or LSO (ts -1); -3: offset and timestamp of the
 * first record holding the largest timestamp; -5: -1/-1 (no tiered
 * storage); >= 0: first record with timestamp >= ts.  Compressed batches are
 * decompressed (bounded).  Record results at or above the bound count as none:
 * offset -1, ts -1.  *leader_epoch_out: epoch of the offset or -1.
 * Returns KERR_NONE, KAFKA_STORAGE_ERROR or CORRUPT_MESSAGE. */
int plog_list_offset(plog *l, int64_t timestamp, int isolation, int64_t *offset, int64_t *ts_out,
                     int32_t *leader_epoch_out);

/* ---- offsets and state ---- */

int64_t plog_log_start_offset(plog *l);
int64_t plog_log_end_offset(plog *l);
int64_t plog_high_watermark(plog *l);
/* Raise the HW to min(hw, LEO) (Kafka's maybeUpdateHighWatermark): it
 * never moves down here (S2); only plog_truncate_to lowers it.  The leader
 * calls it as followers catch up; a single node with the LEO after each
 * append and after loading.  Two appends on different threads publish
 * their ends in either order: the smaller, later call changes nothing, so
 * an acks=-1 produce never waits on a HW that went back.  Loading restores it from
 * replication-offset-checkpoint (plog_load_params). */
void plog_set_high_watermark(plog *l, int64_t hw);
int64_t plog_recovery_point(plog *l);   /* everything below is fsynced */
/* The log is in the failed state of invariant 4 (a write could not be
 * undone or an fsync failed): it refuses appends and flushes until reopened,
 * so nothing parked on its recovery point or HW will ever be satisfied. */
bool plog_offline(plog *l);
int64_t plog_size_bytes(plog *l);       /* sum of segment sizes */
int plog_segment_count(plog *l);

/* DeleteRecords: before_offset -1 = HW; > HW -> OFFSET_OUT_OF_RANGE.  Moves
 * the log start and deletes whole segments below it. */
int plog_delete_records(plog *l, int64_t before_offset, int64_t *new_log_start);

/* fsync all unflushed data, indexes, snapshots; advance the recovery point.
 * Blocking: call from a background thread.  KERR_NONE or KAFKA_STORAGE_ERROR. */
int plog_flush(plog *l);
/* Time-based flush check for the background thread. */
bool plog_flush_due(plog *l, int64_t now_ms);
int64_t plog_unflushed_messages(plog *l);

void plog_set_config(plog *l, const log_config *cfg);
void plog_get_config(plog *l, log_config *cfg);

/* Remove every batch at or after `offset` (a follower after
 * OffsetForLeaderEpoch; Kafka's truncateTo).  A batch holding `offset` goes
 * whole, so the new LEO is the end of the last batch kept (<= offset).
 * Later segments are retired, the active one is cut (indexes and tail
 * entries follow), the producer state is rebuilt from a snapshot plus a
 * replay, epoch-cache entries at or after the new LEO are dropped, and the
 * HW and recovery point come down to the LEO.  Crash-safe (S7).  An offset
 * below the first segment empties the log and restarts it at `offset`
 * (truncateFullyAndStartAt).  Replication calls it through
 * log_manager_truncate_to, which also rewrites the checkpoints.
 * KERR_NONE, OFFSET_OUT_OF_RANGE (offset < 0) or KAFKA_STORAGE_ERROR (the
 * log is then offline). */
int plog_truncate_to(plog *l, int64_t offset);
/* Kafka's truncateFullyAndStartAt: drop every segment and restart the log
 * empty at `offset` (log start = end = HW = offset), producer state and
 * epoch cache cleared.  A follower whose log ends below the leader's log
 * start (a new replica of a partition whose old segments are gone). */
int plog_truncate_fully_and_start_at(plog *l, int64_t offset);

/* Retention by time and size (and segments wholly below the log start);
 * never deletes the active segment or anything at/above the HW.  Also
 * expires idle producer ids.  Returns KERR_NONE; *deleted_segments set. */
int plog_retention(plog *l, int64_t now_ms, int *deleted_segments);

/* OffsetForLeaderEpoch from the leader-epoch cache: the largest epoch <=
 * `epoch` and its end offset, or UNDEFINED (-1, -1); the rules (KIP-101,
 * KIP-279) are lec_end_offset_for's in leader_epoch.h.  leader_epoch is the
 * partition's current leader epoch (-1 if unknown), which counts as started
 * at the LEO when nothing was appended in it yet. */
void plog_epoch_end_offset(plog *l, int32_t epoch, int32_t leader_epoch, int32_t *epoch_out, int64_t *end_offset);

/* The latest leader epoch in the epoch cache, -1 when empty (what a
 * follower asks its leader about before fetching: KIP-101, cluster.md C8). */
int32_t plog_latest_epoch(plog *l);

/* Calls fn for each active producer id (DescribeProducers later; tests of
 * the follower's producer-state replay now). */
typedef struct plog_producer_info {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t last_sequence;
    int64_t last_timestamp;
    int64_t current_txn_start_offset;
    int32_t coordinator_epoch;
} plog_producer_info;
void plog_foreach_producer(plog *l, void (*fn)(void *ctx, const plog_producer_info *p), void *ctx);
/* Becoming leader in `epoch`: record (epoch, LEO) in the epoch cache if the
 * epoch is newer than its latest (Kafka's maybeAssignEpochStartOffset).
 * Written to leader-epoch-checkpoint at the next roll, flush or close. */
void plog_assign_leader_epoch(plog *l, int32_t epoch);

/* ---- hooks used by the log manager ---- */

/* Where retired segments go (renamed *.deleted already): the log manager
 * unlinks them after file.delete.delay.ms.  Without a hook they are
 * unlinked at once.  The hook takes ownership of the segment. */
struct segment;
void plog_set_retire_hook(plog *l, void (*retire)(void *ctx, struct segment *s, int64_t delay_ms), void *ctx);
/* Mark deleted (appends/reads fail with UNKNOWN_TOPIC_OR_PARTITION) and
 * point the log at its renamed dir. */
void plog_mark_deleted(plog *l, const char *new_dir);

#endif
