/*
 * index_file.h - a file of fixed-size big-endian entries (.index, .timeindex).
 *
 * Owns: the entries of one index file.  No descriptor is kept open: the
 * file is opened for each write (persist, truncate, create) and sync, which
 * happen on flush, roll and close only, and closed again; a mapping needs
 * no descriptor once made.  Modes:
 *   MEM    - entries live in a growable malloc'd array (the active segment,
 *            or a segment being recovered); new entries are written to the
 *            file by idxf_persist (pwrite of the not-yet-written tail) and
 *            made durable by idxf_sync.
 *   MAPPED - a sealed segment's trimmed file, mmap'd read-only on first use.
 *   UNLOADED - nothing in memory; the file on disk is complete and trimmed.
 * Invariants: the file never holds more entries than memory (truncation
 * trims both); `persisted <= n`; in MAPPED mode n == file length / esz.
 * Unlike Kafka we never preallocate: files are always exactly
 * used-length, which is what Kafka leaves after a clean shutdown.
 *
 * Threads: the owner (segment, under its partition's lock) serializes
 * mutation; lazy loading is serialized by the owner's lazy mutex.
 */
#ifndef SAMSA_STORAGE_INDEX_FILE_H
#define SAMSA_STORAGE_INDEX_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum idxf_state { IDXF_UNLOADED, IDXF_MEM, IDXF_MAPPED };

typedef struct index_file {
    char *path;                 /* owned */
    size_t esz;                 /* entry size: 8 or 12 */
    enum idxf_state state;
    const uint8_t *e;           /* view of n entries (mem or map) */
    size_t n;
    uint8_t *mem;               /* MEM */
    size_t cap;
    void *map;                  /* MAPPED */
    size_t map_len;
    size_t persisted;           /* entries known to be in the file */
    bool dirty_sync;            /* written since last fsync */
} index_file;

int idxf_init(index_file *f, const char *path, size_t esz);
void idxf_free(index_file *f);
/* Create/empty the file and switch to MEM with no entries. */
int idxf_create(index_file *f);
/* Read the whole file into memory (MEM).  A missing file counts as empty.
 * Fails with -1 (errno EINVAL) if the length is not a multiple of esz. */
int idxf_load_mem(index_file *f);
/* mmap the file read-only (MAPPED); same EINVAL rule.  Idempotent. */
int idxf_map(index_file *f);
/* Convert MAPPED/UNLOADED to MEM (before appending or truncating). */
int idxf_to_mem(index_file *f);
int idxf_append(index_file *f, const uint8_t *entry);
/* Keep only the first n entries (memory and file). */
int idxf_truncate(index_file *f, size_t n);
/* pwrite entries [persisted, n) to the file. */
int idxf_persist(index_file *f);
/* persist + fsync. */
int idxf_sync(index_file *f);
/* For an fsync outside the owner's lock: persist, and if the file was
 * written since its last fsync, open it and hand the descriptor to the
 * caller (*fd; -1 when nothing needs syncing), clearing the dirty flag.
 * The caller fsyncs and closes it. */
int idxf_sync_prepare(index_file *f, int *fd);
/* persist, drop memory: back to UNLOADED. */
int idxf_unload(index_file *f);
/* Read only the last entry from disk without loading (0 = none). */
int idxf_read_last(index_file *f, uint8_t *entry, bool *found);
/* Rename the file (segment deletion). */
int idxf_rename(index_file *f, const char *new_path);

static inline const uint8_t *idxf_entry(const index_file *f, size_t i) { return f->e + i * f->esz; }

#endif
