/*
 * partition_log_int.h - the plog structure, shared by partition_log.c
 * (append/read/offsets/flush/retention), partition_load.c (create, load,
 * recovery, close) and log_manager.c.  Not for use outside src/storage.
 *
 * Locking: `lock` (rwlock) guards every field below it unless noted.
 * `flush_mu` serializes flushers.  `refs` is atomic.  The log manager's
 * fields (lm_*) are guarded by the log manager's own mutex.
 */
#ifndef SAMSA_STORAGE_PARTITION_LOG_INT_H
#define SAMSA_STORAGE_PARTITION_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "storage/leader_epoch.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

#define PARTITION_METADATA_FILE "partition.metadata"

#define PLOG_TAIL_BATCHES 4          /* newest batches remembered for reads at the tail */

struct plog {
    atomic_int refs;
    pthread_mutex_t flush_mu;
    pthread_rwlock_t lock;

    char *dir;                  /* partition dir (owned) */
    char *topic;                /* owned */
    int32_t partition;
    kuuid topic_id;
    log_config cfg;

    segment **segs;             /* ascending; segs[nsegs-1] is active */
    int nsegs, segs_cap;

    int64_t log_start, leo, hw, recovery_point;
    int64_t hw_seg_base, hw_pos;     /* file position of the HW */

    /* The newest batches appended to the active segment: a consumer at the
     * tail fetches from one of them, and plog_read then needs neither the
     * offset index nor a read of batch headers from the file.  Written
     * under the write lock, read under the read lock; forgotten whenever a
     * segment enters or leaves segs[] and on truncation (plog_tail_reset). */
    segment *tail_seg;               /* the segment the entries are in; NULL = none */
    int tail_n, tail_next;           /* entries in use; the one to overwrite next */
    segment_pos tail[PLOG_TAIL_BATCHES];
    int64_t appended_msgs;           /* records appended since open */
    int64_t flushed_msgs;            /* appended_msgs covered by the last flush */
    int64_t last_flush_ms;
    bool dir_dirty;                  /* entries created/renamed/removed since last dir fsync */
    bool snap_unsynced;              /* a snapshot written without fsync */
    int64_t snap_synced;             /* offset of a snapshot known durable (fsynced, or read at a
                                      * clean load) and matching the producer state there; -1 none */
    bool failed;                     /* storage error: refuse writes */
    bool closed;
    bool deleted;

    producer_state ps;
    /* TL8: completed transactions whose marker is not below the HW yet
     * (Kafka's unreplicatedTxns): ascending marker offset, pruned as the
     * HW passes them.  With the open transactions of `ps` they make the
     * first unstable offset (plog_lso_locked). */
    struct plog_txn_span { int64_t first, last; } *unrepl;
    int nunrepl, unrepl_cap;
    leader_epoch_cache lec;
    int64_t *snaps;                  /* snapshot offsets, ascending */
    int nsnaps, snaps_cap;

    void (*retire)(void *ctx, segment *s, int64_t delay_ms);
    void *retire_ctx;

    /* compaction (log_cleaner.c) */
    int64_t first_dirty;             /* cleaner checkpoint: first offset not cleaned yet; -1 unknown (= log start) */
    uint64_t seg_gen;                /* bumped whenever a segment leaves segs[] (the cleaner's swap checks it) */
    pthread_mutex_t clean_mu;        /* one cleaning of this log at a time (taken before `lock`) */

    /* log manager bookkeeping (guarded by the manager's mutex) */
    void (*lm_on_flushed)(void *owner, int64_t flushed_offset);
    void *lm_owner;
    bool lm_flush_queued;
    struct plog *lm_flush_next;
    bool lm_cleaning;                /* a cleaner thread holds it */
    bool lm_uncleanable;             /* cleaning failed (corrupt data, I/O): skipped until reload */
};

/* partition_log.c helpers used by partition_load.c */
plog *plog_alloc(const char *dir, const char *topic, int32_t partition, const log_config *cfg);
void plog_free_mem(plog *l);
int plog_push_segment(plog *l, segment *s);
void plog_retire_segment(plog *l, segment *s);
void plog_snap_add(plog *l, int64_t off);
void plog_snap_prune(plog *l);          /* keep the newest 2, none below log start */
void plog_update_hw_pos(plog *l);
void plog_tail_reset(plog *l);
int plog_flush_locked_io(plog *l);      /* flush without taking flush_mu (close/load) */

/* Transactions (partition_log.c): the LSO (TL9); record a completed
 * transaction [first, marker] (TL8); after a marker appended at `marker`
 * (already replayed into l->ps) to segment s: the .txnindex entry of an
 * abort.  0 / -1 (I/O error). */
int64_t plog_lso_locked(const plog *l);
void plog_unrepl_add(plog *l, int64_t first, int64_t marker);
void plog_unrepl_prune(plog *l);
int plog_note_marker(plog *l, segment *s, int64_t pid, bool abort, int64_t first, int64_t marker);

/* partition_load.c helper used by truncation: the producer state from the
 * newest valid snapshot <= LEO plus a replay of the batches after it (no
 * snapshot: of the last two segments), as Kafka's loadProducerState.
 * Snapshots above the LEO are deleted.  Returns the offset of the snapshot
 * used, -1 if none.  Under the write lock (or before the log is shared). */
int64_t plog_rebuild_producer_state(plog *l, int64_t now_ms);

#endif
