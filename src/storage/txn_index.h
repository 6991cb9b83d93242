/*
 * txn_index.h - one segment's aborted-transaction index (<base>.txnindex).
 *
 * Owns: the entries of one .txnindex file, in memory and on disk.  Kafka's
 * TransactionIndex / AbortedTxn format, big-endian, 34 bytes per entry:
 *   version i16 (0) | producer_id i64 | first_offset i64 |
 *   last_offset i64 (the abort marker's offset) | last_stable_offset i64
 *   (the LSO right after the marker: the first offset of the oldest other
 *   open transaction, else last_offset + 1).
 * An entry is appended when an ABORT marker is written to the segment
 * (leader, follower, recovery); commits leave no entry.  Like Kafka, the
 * file is created lazily with its first entry, so most segments have none.
 *
 * Invariants:
 *   TL1. Entries are in ascending last_offset order and every last_offset
 *        lies in the segment holding the entry ([base, next segment base)).
 *   TL2. The file holds whole entries of version 0, no more than its
 *        segment has batches; a torn tail (a crash in an append) is cut at
 *        load.  A bad version or too many entries: the index is refused
 *        (read_committed reads of the segment fail with
 *        KAFKA_STORAGE_ERROR, logged with the file) until a recovery
 *        rebuilds it.
 *   TL3. Memory: 32 bytes per abort marker of the segment (each marker is a
 *        batch of at least 78 bytes on disk), loaded once per segment on
 *        first use (a fetch with read_committed or a recovery).
 *
 * Threads: the owning segment's rules: appends/truncation under the
 * partition's write lock; the lazy load under the segment's lazy_mu.
 */
#ifndef SAMSA_STORAGE_TXN_INDEX_H
#define SAMSA_STORAGE_TXN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXI_ENTRY 34
#define TXI_VERSION 0

typedef struct txn_aborted {
    int64_t producer_id;
    int64_t first_offset, last_offset, last_stable_offset;
} txn_aborted;

typedef struct txn_index {
    char *path;                 /* owned */
    txn_aborted *e;
    size_t n, cap;
    bool loaded;                /* e[] reflects the file */
    bool unsynced;              /* appended since the last fsync */
} txn_index;

int txi_init(txn_index *t, const char *path);
void txi_free(txn_index *t);
/* Read the file (missing = empty).  A torn tail is cut (file truncated).
 * 0, or -1 (errno; EINVAL for a bad version or more than max_entries
 * entries: the caller passes what its segment could hold, so a corrupt
 * file never drives a large allocation). */
int txi_load(txn_index *t, size_t max_entries);
/* Forget every entry and remove the file (recovery rebuilds it). 0 / -1. */
int txi_reset(txn_index *t);
/* Append one entry (creating the file).  0 / -1; on failure nothing is
 * kept in memory and the file is cut back. */
int txi_append(txn_index *t, const txn_aborted *a);
/* Drop entries whose last_offset >= offset (truncation). 0 / -1. */
int txi_truncate_to(txn_index *t, int64_t offset);
/* fsync the file if appended since the last sync (no file: nothing). 0 / -1. */
int txi_sync(txn_index *t);
/* Point at a new path (rename with the segment). rename_file: also the file
 * (a missing file is fine).  0 / -1. */
int txi_set_path(txn_index *t, const char *path, bool rename_file);

/* Kafka's collectAbortedTxns for one segment: call fn for each entry with
 * last_offset >= from and first_offset < upper.  Returns true when an entry
 * has last_stable_offset >= upper (no later segment can add entries that
 * matter: the search is complete). */
bool txi_collect(const txn_index *t, int64_t from, int64_t upper,
                 void (*fn)(void *ctx, const txn_aborted *a), void *ctx);

void txi_encode(uint8_t out[TXI_ENTRY], const txn_aborted *a);
/* 0, or -1 for a version other than 0. */
int txi_decode(const uint8_t in[TXI_ENTRY], txn_aborted *a);

#endif
