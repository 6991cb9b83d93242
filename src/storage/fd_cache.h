/*
 * fd_cache.h - the process-wide cache of open segment files (.log), with a
 * cap on how many stay open.
 *
 * Why: Kafka keeps every segment's files open, so 10,000 partitions need
 * 30,000+ descriptors and an operator who raised ulimit -n.  Samsa keeps at
 * most `cap` segment files open (samsa.max.open.files; by default half
 * of RLIMIT_NOFILE), opens them lazily on first use and closes the least
 * recently used one when a new open goes over the cap.  Index files hold no
 * descriptor at all (index_file.h).
 *
 * Model: each segment embeds an fdc_entry.  fdc_get(entry, path) returns a
 * NEW fileref reference (the caller fileref_unrefs it when done), opening
 * `path` if the entry holds no file.  The cache itself holds one reference
 * per open entry; eviction only drops that reference, so a descriptor in
 * use (a pread in progress, a Fetch response waiting to sendfile a range,
 * the cleaner reading a source segment) stays open and valid until its last
 * holder lets go - possibly after it left the cache, so the process may
 * briefly hold more than `cap` segment descriptors, by what is in flight.
 * The next fdc_get reopens the file by the path the owner passes then (the
 * owner renames its files: .deleted, .cleaned, .swap), so a reopen sees
 * the same inode under its current name.  A vanished file is an error
 * (NULL, errno ENOENT), never a crash.
 *
 * Recency (an LRU list with a cheap touch): every insertion or
 * move-to-front takes the next value of a global tick and stores it in the
 * entry; the list is ordered by that stamp, so an entry whose stamp is
 * within cap/2 of the tick is in the front half of the list and far from
 * eviction.  A hit on such an entry (the common case: the active segment
 * of a partition being produced to, the tail being fetched) costs the
 * entry's own mutex, one atomic increment of the fileref and two relaxed
 * loads - no global lock, no syscall.  Only an entry that drifted into the
 * back half is moved to the front, under the cache mutex.
 *
 * Locking: `entry.mu` guards `entry.file`; the cache mutex guards the list,
 * the count and every entry's links.  Order: entry.mu -> cache mutex.  The
 * evictor holds the cache mutex and only TRY-locks victims' entry mutexes
 * (a busy entry is in use: skipped), so it can never deadlock with an
 * owner.  Entry mutexes are leaves otherwise; callers may hold their own
 * locks (a partition's rwlock, a segment's lazy mutex) around fdc_get.
 *
 * Threads: all functions are thread-safe.  fdc_set_cap may be called at
 * any time (it evicts down to the new cap).
 */
#ifndef SAMSA_STORAGE_FD_CACHE_H
#define SAMSA_STORAGE_FD_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fileref.h"

typedef struct fdc_entry {
    pthread_mutex_t mu;
    fileref *file;                      /* the cache's reference, or NULL (mu) */
    struct fdc_entry *prev, *next;      /* LRU list, linked iff file != NULL (cache mutex) */
    _Atomic uint64_t stamp;             /* tick of the last insertion / move to front */
} fdc_entry;

void fdc_entry_init(fdc_entry *e);
/* Drop the cache's reference and destroy the entry (the file closes when
 * the last holder lets go). */
void fdc_entry_destroy(fdc_entry *e);

/* A new reference to the entry's file, opening path (O_RDWR) if it is not
 * open; may close the least recently used files of other entries.  NULL
 * with errno on failure (ENOENT: the file is gone). */
fileref *fdc_get(fdc_entry *e, const char *path);
/* Hand a freshly opened fd to the entry (replacing any file it held) and
 * return a new reference to it.  NULL (fd closed) on ENOMEM. */
fileref *fdc_install(fdc_entry *e, int fd);
/* Drop the cache's reference now (the next fdc_get reopens). */
void fdc_close(fdc_entry *e);

/* The cap (segment files kept open).  0 restores the automatic default. */
void fdc_set_cap(size_t cap);
size_t fdc_cap(void);
/* Default cap: half of the soft RLIMIT_NOFILE (the rest is for sockets and
 * everything else), at least 64. */
size_t fdc_auto_cap(void);

typedef struct fdc_stats {
    size_t open;                /* files the cache holds now (<= cap, but see above) */
    size_t cap;
    uint64_t opens;             /* open(2) calls made by fdc_get since start */
    uint64_t evictions;         /* files closed because the cache was full */
    uint64_t moves;             /* hits that took the cache mutex to move an entry to the front */
} fdc_stats;
void fdc_get_stats(fdc_stats *st);

#endif
