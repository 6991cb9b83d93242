/*
 * fileref.h - a reference-counted file descriptor.
 *
 * Segment files are shared between the partition log (which appends and may
 * delete or close them) and responses queued on sockets (which sendfile
 * ranges of them).  Each holder takes a reference; the fd is closed when the
 * last one drops, so a segment deleted by retention stays readable for
 * responses already queued (POSIX keeps unlinked inodes alive while open).
 * Thread-safe: the count is atomic.
 */
#ifndef SAMSA_CORE_FILEREF_H
#define SAMSA_CORE_FILEREF_H

#include <stdatomic.h>

typedef struct fileref {
    atomic_int refs;
    int fd;
} fileref;

/* Takes ownership of fd; returns NULL (and closes fd) on ENOMEM. */
fileref *fileref_new(int fd);
fileref *fileref_ref(fileref *f);
void fileref_unref(fileref *f);

#endif
