/*
 * time_index.h - the .timeindex semantics: timestamp -> relative offset.
 *
 * Entry (12 bytes, big-endian): timestamp i64, relativeOffset i32.  In an
 * entry (T, O), T is the largest timestamp in the segment so far and O the
 * last offset of the batch that holds it, so every record with a timestamp
 * above T lies after O.  Entries are added together with
 * offset-index entries, and once more when the segment is sealed, only
 * when T exceeds the last entry's timestamp: timestamps strictly increase,
 * offsets never decrease.  Storage is index_file's.
 */
#ifndef SAMSA_STORAGE_TIME_INDEX_H
#define SAMSA_STORAGE_TIME_INDEX_H

#include "storage/index_file.h"

#define TIDX_ENTRY 12

void tidx_get(const index_file *f, size_t i, int64_t *ts, int32_t *rel);
/* Greatest entry with ts <= target; false (and rel 0) if none. */
bool tidx_lookup(const index_file *f, int64_t target_ts, int64_t *ts, int32_t *rel);
/* Append (ts, rel) if ts is above the last entry's (or > -1 when empty). */
int tidx_maybe_append(index_file *f, int64_t ts, int32_t rel);
/* Drop entries with rel >= target_rel. */
int tidx_truncate_to(index_file *f, int32_t target_rel);
bool tidx_sane(const index_file *f);

#endif
