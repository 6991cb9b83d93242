/*
 * checkpoint.h - Kafka's text checkpoint files.
 *
 * Format (CheckpointFile.java), UTF-8, '\n' line ends:
 *     0                    <- version
 *     N                    <- entry count
 *     N entry lines
 * Offset checkpoints (recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint, replication-offset-checkpoint,
 * cleaner-offset-checkpoint, per log dir)
 * have entry lines "topic partition offset"; the per-partition
 * leader-epoch-checkpoint has "epoch startOffset" (see leader_epoch.h).
 * Files are replaced atomically: <name>.tmp, fsync, rename, fsync dir.
 * A file that does not parse (bad version, count mismatch, bad line) is
 * rejected as a whole.
 *
 * Memory: ckpt_read returns a malloc'd array the caller frees with
 * ckpt_free.  Threads: pure functions; callers serialize writers per file.
 */
#ifndef SAMSA_STORAGE_CHECKPOINT_H
#define SAMSA_STORAGE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_RECOVERY_POINT "recovery-point-offset-checkpoint"
#define CKPT_LOG_START "log-start-offset-checkpoint"
#define CKPT_REPLICATION "replication-offset-checkpoint"
#define CKPT_CLEANER "cleaner-offset-checkpoint"   /* first dirty (not yet compacted) offset */

typedef struct ckpt_entry {
    char *topic;                /* owned */
    int32_t partition;
    int64_t offset;
} ckpt_entry;

/* Atomically replace dir/name.  0 / -1 (errno). */
int ckpt_write(const char *dir, const char *name, const ckpt_entry *e, size_t n);

/* The bytes last written (and fsynced) to one checkpoint file by this
 * process.  ckpt_write_cached skips the write - and its two fsyncs - when
 * the new content is the same, so a periodic checkpoint of an idle broker
 * costs nothing.  Every writer of that file must go through the same cache
 * (callers serialize them).  Zero-initialize; ckpt_cache_free releases. */
typedef struct ckpt_cache {
    char *buf;
    size_t len;
} ckpt_cache;
int ckpt_write_cached(const char *dir, const char *name, const ckpt_entry *e, size_t n, ckpt_cache *c);
void ckpt_cache_free(ckpt_cache *c);
/* 0 with the entries; -1 with errno (ENOENT: no file; EINVAL: corrupt). */
int ckpt_read(const char *dir, const char *name, ckpt_entry **out, size_t *n);
void ckpt_free(ckpt_entry *e, size_t n);
/* Offset for (topic, partition) in a read array, or -1 if absent. */
int64_t ckpt_lookup(const ckpt_entry *e, size_t n, const char *topic, int32_t partition);

/* Generic parser: checks the version line and count, calls line(ctx, text,
 * len) for each entry line (0 = ok, -1 = reject).  0 / -1 (EINVAL). */
int ckpt_parse(const char *buf, size_t len, int (*line)(void *ctx, const char *s, size_t n), void *ctx);

#endif
