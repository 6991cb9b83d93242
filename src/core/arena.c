/* arena.c - see arena.h. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t size, off;
    _Alignas(16) unsigned char data[];
};

#define ARENA_MIN_BLOCK 4096

void arena_init(arena *a, size_t cap)
{
    a->head = NULL;
    a->used = 0;
    a->cap = cap;
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (a->cap && (size > a->cap || a->used > a->cap - size))
        return NULL;
    arena_block *b = a->head;
    if (!b || b->size - b->off < size) {
        size_t bs = ARENA_MIN_BLOCK;
        if (b && b->size < (1u << 20))
            bs = b->size * 2;       /* grow geometrically up to 1 MiB blocks */
        if (bs < size)
            bs = size;
        b = malloc(sizeof(*b) + bs);
        if (!b)
            return NULL;
        b->next = a->head;
        b->size = bs;
        b->off = 0;
        a->head = b;
    }
    void *p = b->data + b->off;
    b->off += size;
    a->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *p, size_t len)
{
    char *s = arena_alloc(a, len + 1);
    if (s && len)
        memcpy(s, p, len);
    return s;
}

void arena_reset(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used = 0;
}
