/*
 * log_manager.h - all partition logs across log.dirs, and the storage
 * background threads.
 *
 * Owns: the dir locks, the registry (topic, partition) -> plog (one
 * reference each), the delayed-deletion queue, and two threads:
 *   - "scheduler": retention every log.retention.check.interval.ms,
 *     time-based flush (flush.ms) checks, recovery-point, log-start and
 *     high-watermark (replication-offset-checkpoint) checkpoints every
 *     log.flush.offset.checkpoint.interval.ms /
 *     log.flush.start.offset.checkpoint.interval.ms, and unlinking of
 *     deleted segments / partition dirs after file.delete.delay.ms;
 *   - "flusher": performs requested flushes.  Requests for a log that is
 *     already queued coalesce (group commit: many acks, one fsync); after
 *     the flush it calls the log's on_flushed(owner, recovery point) so the
 *     broker can complete acks waiting for durability;
 *   - log.cleaner.threads "cleaner" threads (log_cleaner.h): each picks the
 *     compacted log with the highest dirty ratio that should be cleaned
 *     (Kafka's grabFilthiestCompactedLog), cleans it, writes the dir's
 *     cleaner-offset-checkpoint, and sleeps log.cleaner.backoff.ms when no
 *     log needs cleaning.  A log whose cleaning fails (corrupt data, I/O)
 *     is marked uncleanable and skipped until it is loaded again.
 *
 * Startup (log_manager_open): lock every dir (flock on <dir>/.lock; the
 * error names the dir), note the clean-shutdown marker, read the
 * checkpoints, load every <topic>-<partition> dir (recovery if unclean),
 * finish deleting leftover "-delete" dirs in the background, warn about and
 * skip anything else, then remove the marker and write fresh checkpoints.
 * Shutdown (log_manager_shutdown): stop threads, close every log cleanly
 * (flush, trimmed indexes, producer snapshots), write checkpoints, write
 * the marker per dir whose logs all closed cleanly, unlock.
 *
 * Threads: every function is thread-safe (one mutex guards the registry and
 * queues).  Callbacks run on the flusher thread and must not block long.
 */
#ifndef SAMSA_STORAGE_LOG_MANAGER_H
#define SAMSA_STORAGE_LOG_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/uuid.h"
#include "storage/partition_log.h"

typedef struct log_manager log_manager;

typedef struct log_manager_config {
    const char *const *dirs;             /* log.dirs */
    int ndirs;
    log_config defaults;                 /* broker-level defaults */
    /* Effective config of a topic at load (topic overrides); NULL = defaults. */
    void (*config_for)(void *ctx, const char *topic, log_config *cfg);
    void *config_ctx;
    int64_t retention_check_interval_ms;        /* log.retention.check.interval.ms 300000 */
    int64_t flush_check_interval_ms;            /* how often flush.ms is checked, 1000 */
    int64_t recovery_checkpoint_interval_ms;    /* log.flush.offset.checkpoint.interval.ms 60000 */
    int64_t start_offset_checkpoint_interval_ms;/* log.flush.start.offset.checkpoint.interval.ms 60000 */
    bool start_threads;                         /* false: no background threads (tests) */
    /* compaction */
    bool cleaner_enable;                        /* log.cleaner.enable true */
    int cleaner_threads;                        /* log.cleaner.threads 1 */
    int64_t cleaner_dedupe_buffer_size;         /* log.cleaner.dedupe.buffer.size 134217728, shared by the threads */
    int64_t cleaner_backoff_ms;                 /* log.cleaner.backoff.ms 15000 */
} log_manager_config;

void log_manager_config_defaults(log_manager_config *c);

/* Lock dirs and load everything.  On failure returns the Kafka code and a
 * human message in err (dir lock held, unreadable dir, ...). */
int log_manager_open(const log_manager_config *cfg, log_manager **out, char *err, size_t errlen);

/* Clean shutdown, then free.  Every plog reference held by the caller must
 * be dropped separately (plog_unref); logs are closed either way. */
int log_manager_shutdown(log_manager *lm);

/* Loaded partitions.  fn runs without the manager's lock. */
typedef struct lm_partition_info {
    const char *topic;
    int32_t partition;
    plog *log;                  /* borrowed: plog_ref it to keep it */
    const char *log_dir;        /* the log.dirs entry */
    kuuid topic_id;             /* from partition.metadata (zero if absent) */
} lm_partition_info;
void log_manager_foreach(log_manager *lm, void (*fn)(void *ctx, const lm_partition_info *p), void *ctx);
size_t log_manager_count(log_manager *lm);
/* A new reference (plog_unref it), or NULL. */
plog *log_manager_get(log_manager *lm, const char *topic, int32_t partition);

/* Create <dir>/<topic>-<partition> in the dir with the fewest partitions.
 * *out is borrowed (the manager keeps its reference).  TOPIC_ALREADY_EXISTS
 * if present, KAFKA_STORAGE_ERROR on I/O failure. */
int log_manager_create_partition(log_manager *lm, const char *topic, int32_t partition,
                                 kuuid topic_id, const log_config *cfg, plog **out);
/* Rename the dir to <topic>-<partition>.<32 hex>-delete, drop it from the
 * registry, delete it after file.delete.delay.ms.  Open filerefs stay
 * readable.  The caller's own references stay valid (appends then fail). */
int log_manager_delete_partition(log_manager *lm, plog *l);

void log_manager_set_flush_callback(log_manager *lm, plog *l,
                                    void (*on_flushed)(void *owner, int64_t flushed_offset), void *owner);
/* Ask the flusher to fsync this log (coalesces with pending requests).
 * Without threads, flushes synchronously. */
void log_manager_request_flush(log_manager *lm, plog *l);

/* plog_truncate_to, then the dir's checkpoints (as Kafka's
 * LogManager.truncateTo): a recovery point left above the new end in the
 * file would let a crash skip the recovery of data appended after the
 * truncation. */
int log_manager_truncate_to(log_manager *lm, plog *l, int64_t offset);
/* plog_truncate_fully_and_start_at, then the checkpoints likewise. */
int log_manager_truncate_fully_and_start_at(log_manager *lm, plog *l, int64_t offset);

/* Run one pass of the periodic jobs now (tests, admin). */
void log_manager_run_retention(log_manager *lm, int64_t now_ms);
int log_manager_write_checkpoints(log_manager *lm);
/* Unlink deleted segments/dirs whose delay expired (all when force). */
void log_manager_run_deletions(log_manager *lm, int64_t now_ms, bool force);

/* Compaction, synchronously (tests, admin).  run_cleaner: what the cleaner
 * threads do, until no log should be cleaned (each log at most once);
 * returns how many logs were cleaned.  clean_log: one forced pass over one
 * registered log (log_cleaner.h: plog_clean), then its dir's
 * cleaner-offset-checkpoint is written.  st may be NULL. */
struct log_cleaner_stats;
int log_manager_run_cleaner(log_manager *lm, int64_t now_ms);
int log_manager_clean_log(log_manager *lm, plog *l, int64_t now_ms, struct log_cleaner_stats *st);

#endif
