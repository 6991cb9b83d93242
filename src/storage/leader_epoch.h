/*
 * leader_epoch.h - the leader epoch cache of one partition and its
 * leader-epoch-checkpoint file.
 *
 * Owns: an ascending list of (epoch, start offset): the first offset
 * written in each leader epoch.  File format: Kafka checkpoint text
 * ("0", count, then "epoch startOffset" lines), replaced atomically.
 * Invariants (docs/storage-format.md §11): epochs and start offsets
 * strictly increase (S4); entries lie in [log start, LEO] (S5).  Like Kafka the
 * cache is rebuilt from batch headers (partitionLeaderEpoch) for every
 * batch that recovery re-reads, so the file may lag behind the log.
 *
 * Threads: the owning partition log's lock guards it.
 */
#ifndef SAMSA_STORAGE_LEADER_EPOCH_H
#define SAMSA_STORAGE_LEADER_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

#define LEADER_EPOCH_FILE "leader-epoch-checkpoint"

typedef struct lec_entry { int32_t epoch; int64_t start_offset; } lec_entry;

typedef struct leader_epoch_cache {
    lec_entry *e;
    int n, cap;
    bool dirty;                 /* differs from the file */
    bool synced;                /* the file matched the cache when last fsynced (or was
                                 * read at a clean load); an empty cache counts as no file */
} leader_epoch_cache;

void lec_init(leader_epoch_cache *c);
void lec_free(leader_epoch_cache *c);
/* Record that `epoch` starts at `offset` (ignored unless newer than the
 * latest; entries starting at or after `offset` are dropped first), so
 * epochs and start offsets strictly increase (S4). */
void lec_assign(leader_epoch_cache *c, int32_t epoch, int64_t offset);
/* Forget epochs starting at or after end_offset (log truncated there). */
void lec_truncate_from_end(leader_epoch_cache *c, int64_t end_offset);
/* Log start moved: drop epochs wholly before it, clamp the first one. */
void lec_truncate_from_start(leader_epoch_cache *c, int64_t start_offset);
int32_t lec_epoch_for_offset(const leader_epoch_cache *c, int64_t offset);   /* -1 if unknown */
int32_t lec_latest_epoch(const leader_epoch_cache *c);                      /* -1 if empty */
/* OffsetForLeaderEpoch (KIP-101, KIP-279; Kafka's
 * LeaderEpochFileCache.endOffsetFor), for the requested `epoch`:
 *   - the latest known epoch: (epoch, leo);
 *   - else, H the first known epoch above it and F the last at or below:
 *     (F, start of H); no F (older than every known epoch): (epoch, start
 *     of H);
 *   - no H (newer than every known epoch), an empty cache, or epoch -1:
 *     UNDEFINED (-1, -1).
 * leader_epoch (-1: none) is the caller's current leader epoch; when it is
 * newer than the cache's latest it counts as the entry (leader_epoch, leo)
 * that Kafka's leader assigns on becoming leader. */
void lec_end_offset_for(const leader_epoch_cache *c, int32_t epoch, int64_t leo, int32_t leader_epoch,
                        int32_t *epoch_out, int64_t *end_offset);

int lec_write(leader_epoch_cache *c, const char *dir, bool sync);
/* The file must be (re)written and fsynced for the cache to be durable. */
static inline bool lec_needs_sync(const leader_epoch_cache *c) { return c->dirty || !c->synced; }
/* Missing file = empty cache (0); corrupt = -1 and empty cache.  Marks the
 * cache synced; a caller that cannot vouch for the file's durability (an
 * unclean shutdown) clears `synced`. */
int lec_read(leader_epoch_cache *c, const char *dir);

#endif
