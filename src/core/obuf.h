/*
 * obuf.h - an output buffer made of memory chunks and file ranges.
 *
 * A response is built as a chain: memory chunks hold encoded headers and
 * fields, file chunks name a byte range of a segment file.  The network
 * layer sends memory chunks with writev and file chunks with sendfile, so
 * record data goes from the page cache to the socket without being copied
 * through user space.  Memory chunks never move once allocated, so a pointer
 * returned by obuf_reserve stays valid for back-patching (length prefixes)
 * until the obuf is freed.  An obuf belongs to one thread at a time.
 */
#ifndef SAMSA_CORE_OBUF_H
#define SAMSA_CORE_OBUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/fileref.h"

typedef struct obuf_chunk {
    struct obuf_chunk *next;
    fileref *file;      /* non-NULL: a file range chunk */
    int64_t file_off;
    size_t len;         /* bytes of payload in this chunk */
    size_t cap;         /* memory chunks: capacity of data[] */
    size_t sent;        /* bytes already written to the socket */
    _Alignas(16) uint8_t data[];
} obuf_chunk;

typedef struct obuf {
    obuf_chunk *head, *tail;
    size_t total;       /* payload bytes in all chunks */
    int oom;            /* sticky: an allocation failed */
} obuf;

#define OBUF_CHUNK_SIZE 16384

void obuf_init(obuf *b);
void obuf_free(obuf *b);
/* Room for n contiguous bytes at the tail; commit what was written. NULL on
 * OOM (and b->oom is set). */
uint8_t *obuf_reserve(obuf *b, size_t n);
void obuf_commit(obuf *b, size_t n);
void obuf_append(obuf *b, const void *p, size_t n);
/* Append [off, off+len) of f; takes its own reference. */
void obuf_append_file(obuf *b, fileref *f, int64_t off, size_t len);
/* Move every chunk of src to the end of dst; src becomes empty. */
void obuf_splice(obuf *dst, obuf *src);
/* Copy the memory part of b into out (tests, tagged fields); file chunks
 * are read with pread.  Returns bytes copied or -1. */
long obuf_flatten(const obuf *b, uint8_t *out, size_t cap);
/* Drop the first n payload bytes (after they were sent). */
void obuf_consume(obuf *b, size_t n);

#endif
