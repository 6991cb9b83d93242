/*
 * arena.h - bump allocator with a hard cap, for per-request decoding.
 *
 * Everything decoded from one request (arrays, structs) is carved from the
 * request's arena and freed at once when the request completes.  The cap
 * bounds what any client can make us allocate: an allocation that would
 * exceed it fails (returns NULL) and the decoder reports a parse error.
 * Owned by one thread at a time (the connection's network thread).
 */
#ifndef SAMSA_CORE_ARENA_H
#define SAMSA_CORE_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;   /* current block; older ones chained behind */
    size_t used;         /* total bytes handed out (for the cap) */
    size_t cap;          /* max total bytes; 0 = unlimited */
} arena;

void arena_init(arena *a, size_t cap);
/* Zeroed, 16-byte aligned memory, or NULL if the cap would be exceeded. */
void *arena_alloc(arena *a, size_t size);
/* NUL-terminated copy of [p, p+len). */
char *arena_strndup(arena *a, const char *p, size_t len);
void arena_reset(arena *a);   /* frees all blocks, keeps the cap */

#endif
