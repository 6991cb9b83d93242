/*
 * sio.h - the one door to the file system for everything durable (storage
 * and cluster metadata alike).
 *
 * Owns: every write-side syscall the storage layer makes on segment, index,
 * snapshot and checkpoint files (pwrite, pwritev, fsync, ftruncate, rename),
 * plus small helpers built on them: atomic whole-file replace, whole-file
 * read with a size cap, directory fsync, recursive removal.
 *
 * Why a shim: tests inject faults here (a short write followed by ENOSPC, a
 * failing fsync) to prove that a failed append leaves the log consistent,
 * in the spirit of SQLite's VFS.  Reads go straight to pread: they cannot
 * damage anything.
 *
 * Errors: functions return 0 / a byte count on success and -1 with errno set
 * on failure; callers map errno to KERR_KAFKA_STORAGE_ERROR.  errno never
 * leaves src/storage.
 *
 * Threads: all functions are safe from any thread.  The fault hook is a
 * process-wide pointer meant for tests; set it while no I/O is running.
 */
#ifndef SAMSA_OS_SIO_H
#define SAMSA_OS_SIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum sio_op { SIO_WRITE, SIO_FSYNC, SIO_TRUNCATE, SIO_RENAME };

/* Fault hook: called before each operation.  Return 0 to let it run; return
 * an errno value to fail it.  For SIO_WRITE, a hook may instead set
 * *allow_bytes to a smaller count (the write is cut there and then fails with
 * the returned errno, like a disk filling up mid-write). */
typedef int (*sio_fault_fn)(enum sio_op op, size_t len, size_t *allow_bytes, void *ctx);
void sio_set_fault(sio_fault_fn fn, void *ctx);

/* Write all of [buf, buf+len) at off, retrying short writes and EINTR.
 * Returns 0, or -1 with errno (some bytes may have been written). */
int sio_pwrite_all(int fd, const void *buf, size_t len, off_t off);
int sio_pwritev_all(int fd, const struct iovec *iov, int iovcnt, off_t off);
int sio_fsync(int fd);
int sio_fdatasync(int fd);
int sio_ftruncate(int fd, off_t len);
int sio_rename(const char *from, const char *to);

/* fsync a directory (after creating, renaming or removing entries in it). */
int sio_fsync_dir(const char *dir);

/* Replace dir/name atomically with [data, data+len): write dir/name.tmp,
 * fsync it, rename over dir/name, then fsync dir (skipped when sync == 0:
 * the rename is still atomic but may be lost in a crash). */
int sio_write_file_atomic(const char *dir, const char *name, const void *data, size_t len, int sync);

/* Read a whole file into a malloc'd NUL-terminated buffer (caller frees).
 * Fails with EFBIG if it is larger than cap bytes. */
int sio_read_file(const char *path, size_t cap, char **out, size_t *len_out);

/* Remove a path and, if a directory, everything below it. */
int sio_rm_rf(const char *path);

/* Read exactly len bytes at off; returns bytes read (short at EOF) or -1. */
ssize_t sio_pread_full(int fd, void *buf, size_t len, off_t off);

#endif
