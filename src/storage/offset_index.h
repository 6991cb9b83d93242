/*
 * offset_index.h - the .index semantics: relative offset -> file position.
 *
 * Entry (8 bytes, big-endian): relativeOffset i32 (offset - segment base),
 * position i32 (byte position of a batch in the .log).  Sparse: one entry
 * per index.interval.bytes of appended data.  Invariant: relative offsets
 * strictly increase, positions strictly increase.  Storage, loading and
 * persistence are index_file's; this file only interprets entries.
 */
#ifndef SAMSA_STORAGE_OFFSET_INDEX_H
#define SAMSA_STORAGE_OFFSET_INDEX_H

#include "storage/index_file.h"

#define OIDX_ENTRY 8

void oidx_get(const index_file *f, size_t i, int32_t *rel, int32_t *pos);
/* Greatest entry with rel <= target; (0, 0) if none (the segment start). */
void oidx_lookup(const index_file *f, int32_t target_rel, int32_t *rel, int32_t *pos);
/* Append unless rel is not above the last entry (then a no-op). */
int oidx_append(index_file *f, int32_t rel, int32_t pos);
/* Drop entries with rel >= target_rel. */
int oidx_truncate_to(index_file *f, int32_t target_rel);
/* Drop entries with pos >= target_pos. */
int oidx_truncate_to_pos(index_file *f, int64_t target_pos);

#endif
