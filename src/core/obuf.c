/* obuf.c - see obuf.h. */
#include "core/obuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void obuf_init(obuf *b)
{
    memset(b, 0, sizeof *b);
}

static void chunk_free(obuf_chunk *c)
{
    if (c->file)
        fileref_unref(c->file);
    free(c);
}

void obuf_free(obuf *b)
{
    obuf_chunk *c = b->head;
    while (c) {
        obuf_chunk *n = c->next;
        chunk_free(c);
        c = n;
    }
    obuf_init(b);
}

static void link_chunk(obuf *b, obuf_chunk *c)
{
    c->next = NULL;
    if (b->tail)
        b->tail->next = c;
    else
        b->head = c;
    b->tail = c;
}

uint8_t *obuf_reserve(obuf *b, size_t n)
{
    obuf_chunk *t = b->tail;
    if (t && !t->file && t->cap - t->len >= n)
        return t->data + t->len;
    size_t cap = n > OBUF_CHUNK_SIZE ? n : OBUF_CHUNK_SIZE;
    obuf_chunk *c = malloc(sizeof *c + cap);
    if (!c) {
        b->oom = 1;
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->cap = cap;
    link_chunk(b, c);
    return c->data;
}

void obuf_commit(obuf *b, size_t n)
{
    b->tail->len += n;
    b->total += n;
}

void obuf_append(obuf *b, const void *p, size_t n)
{
    while (n > 0) {
        obuf_chunk *t = b->tail;
        size_t room = (t && !t->file) ? t->cap - t->len : 0;
        if (room == 0) {
            if (!obuf_reserve(b, n < OBUF_CHUNK_SIZE ? n : OBUF_CHUNK_SIZE))
                return;
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(t->data + t->len, p, k);
        t->len += k;
        b->total += k;
        p = (const uint8_t *)p + k;
        n -= k;
    }
}

void obuf_append_file(obuf *b, fileref *f, int64_t off, size_t len)
{
    if (len == 0)
        return;
    obuf_chunk *c = malloc(sizeof *c);
    if (!c) {
        b->oom = 1;
        return;
    }
    memset(c, 0, sizeof *c);
    c->file = fileref_ref(f);
    c->file_off = off;
    c->len = len;
    link_chunk(b, c);
    b->total += len;
}

void obuf_splice(obuf *dst, obuf *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->total += src->total;
    dst->oom |= src->oom;
    obuf_init(src);
}

long obuf_flatten(const obuf *b, uint8_t *out, size_t cap)
{
    size_t o = 0;
    for (const obuf_chunk *c = b->head; c; c = c->next) {
        size_t n = c->len - c->sent;
        if (o + n > cap)
            return -1;
        if (c->file) {
            ssize_t r = pread(c->file->fd, out + o, n, c->file_off + (int64_t)c->sent);
            if (r != (ssize_t)n)
                return -1;
        } else {
            memcpy(out + o, c->data + c->sent, n);
        }
        o += n;
    }
    return (long)o;
}

void obuf_consume(obuf *b, size_t n)
{
    while (n > 0 && b->head) {
        obuf_chunk *c = b->head;
        size_t left = c->len - c->sent;
        if (n < left) {
            c->sent += n;
            b->total -= n;
            return;
        }
        n -= left;
        b->total -= left;
        b->head = c->next;
        if (!b->head)
            b->tail = NULL;
        chunk_free(c);
    }
}
