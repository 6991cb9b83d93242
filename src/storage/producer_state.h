/*
 * producer_state.h - idempotent-producer state of one partition.
 *
 * Owns: a map producer id -> entry (epoch, metadata of the last 5 batches
 * written by that producer: first/last sequence, first/last offset,
 * max timestamp) and the encoding of Kafka's .snapshot files.
 *
 * Rules (Kafka's ProducerAppendInfo / UnifiedLog.analyzeAndValidateProducerState,
 * client appends only):
 *   - duplicate: same epoch and (first seq, last seq) equal to one of the
 *     last 5 batches -> acknowledged with that batch's original offsets,
 *     nothing is written;
 *   - epoch below the current one -> INVALID_PRODUCER_EPOCH;
 *   - a new (higher) epoch must start at sequence 0, unless the producer had
 *     no epoch yet -> else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - same epoch: first seq must be last seq + 1 (INT32_MAX wraps to 0),
 *     unless the producer has no entry (any sequence is accepted)
 *     -> else OUT_OF_ORDER_SEQUENCE_NUMBER.
 * Transactions (Kafka's ProducerAppendInfo, KIP-98):
 *   TL4. a transactional batch opens its producer's transaction at the
 *        batch's first offset when none is open (txn_first_offset); a
 *        non-transactional batch while one is open -> INVALID_TXN_STATE;
 *   TL5. a marker (pstate_check_marker) with an older producer epoch ->
 *        INVALID_PRODUCER_EPOCH, with an older coordinator epoch than the
 *        producer's -> TRANSACTION_COORDINATOR_FENCED; applied, it closes
 *        the open transaction (a marker without one completes the empty
 *        transaction [marker, marker], as Kafka), takes the marker's epochs
 *        and, on an epoch change, forgets the batch metadata (the next
 *        batch must start at sequence 0);
 *   TL6. coordinator appends (PSTATE_ORIGIN_COORDINATOR: the group
 *        coordinator's TxnOffsetCommit batches) skip duplicate and
 *        sequence checks; the epoch and transaction rules apply;
 *   TL7. an entry with an open transaction never expires.
 * Partition verification (KIP-890 part 1, Kafka's VerificationStateEntry):
 *   TV1. before a transactional batch of a producer without an open
 *        transaction (at that epoch) is appended, the leader asks the
 *        transaction coordinator whether the partition is in the
 *        transaction; pstate_verify_start() first records a verification
 *        entry with a fresh guard (an existing one is reused, its epoch
 *        raised), and the append must present that same guard
 *        (pstate_verify_ok), else INVALID_TXN_STATE;
 *   TV2. the entry is removed when the producer's transaction opens (its
 *        transactional batch committed), when a marker for the producer is
 *        applied (written, replayed or replicated) and when it is older than
 *        producer.id.expiration.ms: a marker written between the
 *        verification and the append makes the append fail instead of
 *        opening a transaction no marker will close;
 *   TV3. guard 0 is the sentinel: never valid (a producer with an open
 *        transaction needs no verification and gets 0).
 * Verification entries live in memory only (not in snapshots), as Kafka's.
 * pstate_first_open() is the smallest txn_first_offset of all entries (the
 * first unstable offset's "ongoing" half); it is cached and recomputed by
 * a scan only when the oldest transaction closes.
 * Replay (load, recovery) applies batches without these checks.
 * Entries expire producer.id.expiration.ms after their last batch's
 * timestamp (Kafka uses the batch maxTimestamp, so do we).
 *
 * Appends are two-phase: pstate_check() validates a batch against the
 * committed state plus earlier batches of the same append (kept in a
 * pstate_stage), and pstate_commit() publishes the staged entries once the
 * write has succeeded.  A failed write just frees the stage.
 *
 * Snapshot file <20-digit offset>.snapshot, big-endian (ProducerStateManager,
 * version 1):  version i16 (1) | crc u32 (CRC-32C of everything after it) |
 * count i32 | count x { producer_id i64, epoch i16, last_sequence i32,
 * last_offset i64, offset_delta i32, timestamp i64, coordinator_epoch i32,
 * current_txn_first_offset i64 }.  Like Kafka, only the last batch of each
 * producer survives a snapshot (duplicates of older ones are then reported
 * as out of order, as Kafka does after a restart).
 *
 * Threads: the owning partition log's write lock guards everything.
 */
#ifndef SAMSA_STORAGE_PRODUCER_STATE_H
#define SAMSA_STORAGE_PRODUCER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/strmap.h"
#include "storage/record_batch.h"

#define PSTATE_MAX_BATCHES 5
#define PSTATE_SNAPSHOT_VERSION 1
#define PSTATE_SNAPSHOT_ENTRY 46

typedef struct pstate_batch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
    int64_t timestamp;
} pstate_batch;

typedef struct pstate_entry {
    int64_t producer_id;
    int16_t epoch;                   /* -1: none */
    int nbatches;                    /* b[0] oldest .. b[nbatches-1] newest */
    pstate_batch b[PSTATE_MAX_BATCHES];
    int64_t last_timestamp;
    int32_t coordinator_epoch;
    int64_t txn_first_offset;        /* -1: no open transaction */
} pstate_entry;

typedef struct producer_state {
    strmap map;                      /* 8-byte pid -> pstate_entry* (owned) */
    size_t nopen;                    /* entries with txn_first_offset >= 0 */
    int64_t first_open;              /* min txn_first_offset when first_open_ok */
    bool first_open_ok;
    strmap verif;                    /* 8-byte pid -> pstate_verif* (owned), TV1-TV3 */
    uint64_t next_guard;             /* last guard handed out (0: none yet) */
} producer_state;

typedef struct pstate_verif {
    int16_t epoch;
    uint64_t guard;                  /* never 0 (TV3) */
    int64_t created_ms;
} pstate_verif;

enum { PSTATE_ORIGIN_CLIENT = 0, PSTATE_ORIGIN_COORDINATOR = 1 };

typedef struct pstate_stage {
    pstate_entry *e;
    int n, cap;
} pstate_stage;

void pstate_init(producer_state *ps);
void pstate_free(producer_state *ps);
void pstate_clear(producer_state *ps);
size_t pstate_count(const producer_state *ps);
/* Borrowed; valid until the next mutation. */
const pstate_entry *pstate_get(const producer_state *ps, int64_t pid);

/* Validate a client batch whose offsets are already assigned (h->base_offset
 * set).  Returns KERR_NONE (batch staged), KERR_DUPLICATE_SEQUENCE_NUMBER
 * with *dup filled (the original batch), or the Kafka error. */
int pstate_check(const producer_state *ps, pstate_stage *st, const rb_header *h, pstate_batch *dup,
                 int origin);
void pstate_commit(producer_state *ps, pstate_stage *st);
void pstate_stage_free(pstate_stage *st);

/* Apply a batch from the log without validation (load / recovery /
 * follower).  For a control batch returns the first offset of the
 * transaction it completes (TL5), else -1.  coordinator_epoch: the
 * marker's (-1: unknown, e.g. a header-only replay: kept as is). */
int64_t pstate_replay(producer_state *ps, const rb_header *h, int32_t coordinator_epoch);

/* TL5: may a marker with these epochs be written?  KERR_NONE or the code. */
int pstate_check_marker(const producer_state *ps, int64_t pid, int16_t producer_epoch, int32_t coordinator_epoch);

/* TV1: the guard an append of pid's transactional batch must present;
 * 0 when the producer has an open transaction at `epoch` (no verification
 * needed) or out of memory (the append then fails, TV3). */
uint64_t pstate_verify_start(producer_state *ps, int64_t pid, int16_t epoch, int64_t now_ms);
/* TV1/TV3: is `guard` the producer's current verification guard? */
bool pstate_verify_ok(const producer_state *ps, int64_t pid, uint64_t guard);
/* TV2: drop the producer's verification entry (if any). */
void pstate_verify_clear(producer_state *ps, int64_t pid);

/* Smallest first offset of an open transaction, -1 if none.  Updates the
 * cache (write lock); _peek does not (read lock: scans if it is stale). */
int64_t pstate_first_open(producer_state *ps);
int64_t pstate_first_open_peek(const producer_state *ps);
/* Drop entries idle for expiration_ms. Returns how many. */
int pstate_expire(producer_state *ps, int64_t now_ms, int64_t expiration_ms);

/* Write dir/<offset>.snapshot (temp + rename; fsync when sync). 0 / -1. */
int pstate_snapshot_write(const producer_state *ps, const char *dir, int64_t offset, bool sync);
/* Replace the state with dir/<offset>.snapshot.  0; -1 if missing or
 * corrupt (bad version, CRC or length), in which case the state is empty. */
int pstate_snapshot_load(producer_state *ps, const char *dir, int64_t offset);
void pstate_snapshot_path(char *out, size_t cap, const char *dir, int64_t offset);

#endif
